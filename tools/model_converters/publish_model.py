"""Prepare a trained checkpoint for release, as OpenMMLab does.

    python tools/model_converters/publish_model.py IN_FILE OUT_FILE

Keeps the weights and the meta information, drops the optimizer, the
schedulers and the message hub (whose pickled objects need mmengine, and
mmdualtoken imported, to load), and writes OUT_FILE's stem followed by
``-<first 8 hex digits of its sha256>.pth``. The file is written under a
temporary name and renamed once complete.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
import mmdualtoken  # noqa: F401  (allows mmengine's checkpoint types)

KEPT = ('meta', 'state_dict')


def publish(in_file: str, out_file: str) -> str:
    """Writes the published checkpoint; returns its path."""
    checkpoint = torch.load(in_file, map_location='cpu', weights_only=True)
    if 'state_dict' not in checkpoint:
        raise SystemExit(f'{in_file}: no state_dict; is it a checkpoint '
                         f'written by tools/train.py?')
    published = {key: checkpoint[key] for key in KEPT if key in checkpoint}
    stem = osp.splitext(out_file)[0]
    partial = f'{stem}.pth.part'
    torch.save(published, partial)
    with open(partial, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    final = f'{stem}-{digest[:8]}.pth'
    os.replace(partial, final)
    return final


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help='checkpoint written by tools/train.py')
    parser.add_argument('out_file', help='output path (the hash is appended)')
    args = parser.parse_args()
    print(publish(args.in_file, args.out_file))


if __name__ == '__main__':
    main()
