"""Write the toy datasets (real ImageNet / COCO / ADE20K layouts); the same
as ``python -m mmdualtoken.toy_data``.

    python tools/make_toy_data.py [--task {cls,det,seg,all}] [--root data/toy]
        [--seed 0] [--force]
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.cli.toy_data import main  # noqa: E402

if __name__ == '__main__':
    run(main)
