"""Extracts the backbone of a classifier checkpoint for detection and
segmentation.

    python tools/model_converters/extract_backbone.py IN_FILE OUT_FILE [--bare]

Reads any checkpoint layout mmdualtoken reads (a training checkpoint, a
published one, ``{'model': ...}``, ``module.`` prefixes) and writes only the
backbone's weights, as ``{'state_dict': {'backbone.*': ...}}``: the file the
detection and segmentation configs' ``pretrained`` expects (their
``Pretrained`` init reads it with ``prefix='backbone.'``), without the head,
optimizer or message hub. ``--bare`` drops the ``backbone.`` prefix (for an
``init_cfg`` with ``prefix=None``). The file is written under a temporary
name and renamed once complete.
"""
import argparse
import os
import os.path as osp
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmengine.runner import CheckpointLoader

from mmdualtoken.engine.checkpoint import weights_of

PREFIX = 'backbone.'


def extract(in_file: str, out_file: str, bare: bool = False) -> int:
    """Writes the backbone weights; returns how many tensors."""
    state = weights_of(
        CheckpointLoader.load_checkpoint(in_file, 'cpu'), PREFIX)
    if not state:
        raise SystemExit(f'{in_file}: no key starts with {PREFIX!r}; is it '
                         f'a classifier checkpoint (tools/train.py on a '
                         f'configs/classification config)?')
    if not bare:
        state = {PREFIX + key: value for key, value in state.items()}
    partial = out_file + '.part'
    torch.save(dict(state_dict=state), partial)
    os.replace(partial, out_file)
    return len(state)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help='classifier checkpoint')
    parser.add_argument('out_file', help='backbone checkpoint to write')
    parser.add_argument(
        '--bare',
        action='store_true',
        help=f'keys without the {PREFIX!r} prefix')
    args = parser.parse_args()
    count = extract(args.in_file, args.out_file, args.bare)
    print(f'{args.out_file}: {count} backbone tensors')


if __name__ == '__main__':
    main()
