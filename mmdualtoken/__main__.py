"""Runs a host library's own tool with ``mmdualtoken`` imported first, so
that its configs can inherit ``mmdualtoken::`` configs.

    python -m mmdualtoken {mmdet,mmseg,mmpretrain} TOOL [ARGS...]

TOOL is a path under the library's installed ``.mim/tools`` (e.g.
``train.py``, ``test.py``, ``analysis_tools/browse_dataset.py``), or any
script path.
"""
import os.path as osp
import runpy
import sys
from importlib import import_module

import mmdualtoken  # noqa: F401  (registers mmdualtoken::)

HOSTS = ('mmdet', 'mmseg', 'mmpretrain')


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in HOSTS:
        sys.exit(__doc__)
    host, tool, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    path = tool if osp.isfile(tool) else osp.join(
        osp.dirname(import_module(host).__file__), '.mim', 'tools', tool)
    if not osp.isfile(path):
        sys.exit(f'{host} has no tool {tool!r} (looked for {path}).')
    sys.argv = [path, *args]
    sys.path.insert(0, osp.dirname(path))
    runpy.run_path(path, run_name='__main__')


if __name__ == '__main__':
    main()
