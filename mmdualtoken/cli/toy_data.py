"""Write the toy datasets (real ImageNet / COCO / ADE20K layouts).

    python -m mmdualtoken.toy_data [--task {cls,det,seg,all}]
        [--root data/toy] [--seed 0] [--force]

An existing dataset folder is kept unless --force is given; then the new one
is written beside it and replaces it only once complete.
"""
import argparse
import os
import os.path as osp
import shutil
from typing import List, Optional

from mmdualtoken.toy_data import (make_toy_ade20k, make_toy_coco,
                                  make_toy_imagenet)

WRITERS = dict(
    cls=('imagenet', make_toy_imagenet),
    det=('coco', make_toy_coco),
    seg=('ade20k', make_toy_ade20k))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--task', choices=[*WRITERS, 'all'], default='all')
    parser.add_argument('--root', default='data/toy')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true')
    args = parser.parse_args(argv)
    for task in (WRITERS if args.task == 'all' else [args.task]):
        name, writer = WRITERS[task]
        path = osp.join(args.root, name)
        if osp.isdir(path) and not args.force:
            print(f'{path} exists; keeping it (--force rewrites it)')
            continue
        part, old = f'{path}.part', f'{path}.old'
        shutil.rmtree(part, ignore_errors=True)
        writer(part, seed=args.seed)
        if osp.isdir(path):
            os.replace(path, old)
        os.replace(part, path)
        shutil.rmtree(old, ignore_errors=True)
        print(f'wrote {path}')
