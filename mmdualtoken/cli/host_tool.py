"""``python -m mmdualtoken HOST TOOL [ARGS...]``: a host library's own tool,
run with ``mmdualtoken`` imported first, so that its configs can inherit
``mmdualtoken::`` configs.

HOST is mmdet, mmseg or mmpretrain; TOOL a path under the library's
installed ``.mim/tools`` (e.g. ``train.py``, ``test.py``,
``analysis_tools/browse_dataset.py``), or any script path. HOST timm runs a
script of timm's source tree (its ``benchmark.py``, ``train.py``) with our
models in timm's registry (``mmdualtoken.models.timm_models``).
"""
import os.path as osp
import runpy
import sys
from importlib import import_module
from typing import List, Optional

from mmdualtoken.errors import ConfigError

HOSTS = ('mmdet', 'mmseg', 'mmpretrain', 'timm')


def host_tool_path(host: str, tool: str) -> str:
    """The path of ``tool`` in ``host``'s installed tools."""
    if host not in HOSTS:
        raise ConfigError(f'{host!r} is not one of {HOSTS}.')
    if host == 'timm' and not osp.isfile(tool):
        raise ConfigError(f'timm ships its tools in its source tree, not in '
                          f'the wheel: pass the path of {tool!r} there.')
    path = tool if osp.isfile(tool) else osp.join(
        osp.dirname(import_module(host).__file__), '.mim', 'tools', tool)
    if not osp.isfile(path):
        raise ConfigError(f'{host} has no tool {tool!r} (looked for {path}).')
    return path


def host_of(config: str) -> str:
    """The task library a config of ours runs under (its default scope)."""
    from mmdualtoken.apis.config import read_config
    return read_config(config).get('default_scope')


def run_host_tool(host: str, tool: str, args: List[str]) -> None:
    """Runs ``tool`` of ``host`` in this process, as ``python TOOL ARGS``."""
    import mmdualtoken  # noqa: F401  (mmdualtoken:: bases, safe loading)
    if host == 'timm':
        import mmdualtoken.models.timm_models  # noqa: F401  (our models)
    path = host_tool_path(host, tool)
    sys.argv = [path, *args]
    sys.path.insert(0, osp.dirname(path))
    runpy.run_path(path, run_name='__main__')


def main(argv: Optional[List[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = (f'usage: python -m mmdualtoken HOST TOOL [ARGS...], HOST one of '
             f'{", ".join(HOSTS)}, TOOL a path under its tools/ (e.g. '
             f'train.py).')
    if argv and argv[0] not in HOSTS:
        raise ConfigError(f'{argv[0]!r} is not a host library; {usage}')
    if len(argv) < 2:
        raise ConfigError(f'no tool named; {usage}')
    run_host_tool(argv[0], argv[1], argv[2:])
