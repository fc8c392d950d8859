"""Exports a model of a config (or its backbone) to ONNX and checks it with
ONNX Runtime: ``tools/deployment/export.py --format onnx``.

    python tools/deployment/pytorch2onnx.py CONFIG [CHECKPOINT]
        [--shape H W] [--dynamic] [--backbone-only] [--out FILE]
        [--verify-shape H W ...]
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.cli.export import main  # noqa: E402

if __name__ == '__main__':
    run(main, [*sys.argv[1:], '--format', 'onnx'])
