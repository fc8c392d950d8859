"""Train a model from an mmpretrain, mmdet or mmseg config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--no-validate] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}] [--debug]
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.cli.train import main  # noqa: E402

if __name__ == '__main__':
    run(main)
