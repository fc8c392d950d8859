"""Evaluate a checkpoint on the config's test set and print the metrics.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options K=V ...] [--launcher {none,pytorch,slurm,mpi}]
        [--debug]

--out, --show, --show-dir and --tta hand the run to the task library's own
tools/test.py.
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.cli.test import main  # noqa: E402

if __name__ == '__main__':
    run(main)
