"""Write the toy datasets (real ImageNet / COCO / ADE20K layouts).

    python -m mmdualtoken.toy_data [--task {cls,det,seg,all}]
        [--root data/toy] [--seed 0] [--force]

An existing dataset folder of this version of the toy data is kept unless
--force is given; one of another version (or of none) is rewritten. The new
one is written beside it and replaces it only once complete.
"""
import argparse
import os
import os.path as osp
import shutil
from typing import List, Optional

from mmdualtoken.toy_data import (TOY_DATA_VERSION, make_toy_ade20k,
                                  make_toy_coco, make_toy_imagenet)

WRITERS = dict(
    cls=('imagenet', make_toy_imagenet),
    det=('coco', make_toy_coco),
    seg=('ade20k', make_toy_ade20k))


def _version_of(path: str) -> Optional[str]:
    """The toy-data version stamped in a dataset folder, None if none."""
    stamp = osp.join(path, 'toy_data_version')
    if not osp.isfile(stamp):
        return None
    with open(stamp) as f:
        return f.read().strip()


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
        current = _version_of(path) == str(TOY_DATA_VERSION)
        if current and not args.force:
            print(f'{path} exists; keeping it (--force rewrites it)')
            continue
        if osp.isdir(path) and not current:
            print(f'{path} holds another version of the toy data; '
                  f'rewriting it')
        part, old = f'{path}.part', f'{path}.old'
        shutil.rmtree(part, ignore_errors=True)
        writer(part, seed=args.seed)
        with open(osp.join(part, 'toy_data_version'), 'w') as f:
            f.write(f'{TOY_DATA_VERSION}\n')
        if osp.isdir(path):
            os.replace(path, old)
        os.replace(part, path)
        shutil.rmtree(old, ignore_errors=True)
        print(f'wrote {path}')
