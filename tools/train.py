"""Train a model from an mmpretrain, mmdet or mmseg config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--no-validate] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}]
"""
from mmdualtoken.apis.train import main

if __name__ == '__main__':
    main()
