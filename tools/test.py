"""Evaluate a checkpoint on the config's test set and print the metrics.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out PATH]
        [--show-dir DIR] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}]
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdualtoken.apis.test import main

if __name__ == '__main__':
    main()
