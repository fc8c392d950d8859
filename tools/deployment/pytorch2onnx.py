"""Exports a model of a config (or its backbone) to ONNX.

Usage:
    python tools/deployment/pytorch2onnx.py CONFIG [CHECKPOINT]
        [--shape H W] [--dynamic] [--backbone-only] [--out FILE]
        [--verify-shape H W ...]

The classifier exports its logits; detectors and segmentors their raw head
outputs (the ``tensor`` forward, no post-processing). With ``--dynamic``,
batch, height and width are dynamic axes: one file serves any input size
>= 32. With onnxruntime installed, the outputs are compared with PyTorch's
at the export shape and at each ``--verify-shape`` (tolerance 1e-4).
"""
import argparse
import os.path as osp
import sys
import warnings

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.deployment import export_onnx  # noqa: E402
from mmdualtoken.deployment import build_exportable, onnx_parity

TOLERANCE = 1e-4


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='weights (any location mmengine reads); '
        'random weights without it')
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument(
        '--dynamic',
        action='store_true',
        help='dynamic batch, height and width')
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument(
        '--out',
        help='the .onnx file (default: the '
        'config\'s name beside the checkpoint or here)')
    parser.add_argument(
        '--verify-shape',
        type=int,
        nargs=2,
        action='append',
        default=[],
        metavar=('H', 'W'),
        help='also compare outputs at this size (needs '
        '--dynamic unless it is the export shape)')
    args = parser.parse_args(argv)
    if min(args.shape) < 32:
        parser.error('--shape: height and width must be at least 32')
    if not args.dynamic and any(s != args.shape for s in args.verify_shape):
        parser.error('--verify-shape at another size needs --dynamic: a '
                     'static export serves its own shape only')
    return args


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    out = args.out or osp.join(
        osp.dirname(args.checkpoint or ''),
        osp.splitext(osp.basename(args.config))[0] +
        ('_backbone' if args.backbone_only else '') + '.onnx')
    model = build_exportable(args.config, args.checkpoint, args.backbone_only)
    export_onnx(model, out, args.shape, args.dynamic)
    print(f'wrote {out}' +
          (' (dynamic batch, height and width)' if args.dynamic else ''))
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print('onnxruntime is not installed: outputs not compared '
              '(pip install onnxruntime)')
        return
    shapes = [(1, 3, *args.shape)] + [(2, 3, *s) if args.dynamic else
                                      (1, 3, *s) for s in args.verify_shape]
    error = onnx_parity(model, out, shapes)
    sizes = ', '.join(f'{s[2]}x{s[3]}' for s in shapes)
    print(f'onnxruntime vs PyTorch at {sizes}: max abs difference '
          f'{error:.1e} (tolerance {TOLERANCE:.0e})')
    if error > TOLERANCE:
        sys.exit(f'The ONNX outputs differ from PyTorch\'s by {error:.1e}.')


if __name__ == '__main__':
    run(main)
