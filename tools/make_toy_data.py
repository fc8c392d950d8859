"""Write the toy datasets (real ImageNet / COCO / ADE20K layouts).

    python tools/make_toy_data.py [--task {cls,det,seg,all}] [--root data/toy]
        [--seed 0] [--force]

An existing dataset folder is kept unless --force is given.
"""
import argparse
import os.path as osp
import shutil
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdualtoken.toy_data import (make_toy_ade20k, make_toy_coco,
                                  make_toy_imagenet)

WRITERS = dict(
    cls=('imagenet', make_toy_imagenet),
    det=('coco', make_toy_coco),
    seg=('ade20k', make_toy_ade20k))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--task', choices=[*WRITERS, 'all'], default='all')
    parser.add_argument('--root', default='data/toy')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true')
    args = parser.parse_args()
    for task in (WRITERS if args.task == 'all' else [args.task]):
        name, writer = WRITERS[task]
        path = osp.join(args.root, name)
        if osp.isdir(path) and not args.force:
            print(f'{path} exists; keeping it (--force rewrites it)')
            continue
        if osp.isdir(path):
            shutil.rmtree(path)
        writer(path, seed=args.seed)
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
