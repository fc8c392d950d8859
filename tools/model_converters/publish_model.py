"""Prepares a trained checkpoint for release: mmpretrain's own
publish_model.py (the weights and meta kept, optimizer, schedulers and
message hub dropped, the date and the first 8 hex digits of its sha256
appended to the name), which serves any of our checkpoints.

    python tools/model_converters/publish_model.py IN_FILE OUT_FILE
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.cli.host_tool import run_host_tool  # noqa: E402

if __name__ == '__main__':
    run(lambda argv: run_host_tool('mmpretrain',
                                   'model_converters/publish_model.py', argv))
