"""Evaluate a checkpoint on the config's test set and print the metrics.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out PATH]
        [--show-dir DIR] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}]
"""
from mmdualtoken.apis.test import main

if __name__ == '__main__':
    main()
