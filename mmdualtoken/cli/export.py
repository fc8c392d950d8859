"""``tools/deployment/export.py``: export a config's model to a deployment
format, compare the runtime's outputs with PyTorch's and time it.

Prints the largest difference from PyTorch's eval outputs (relative where
values exceed 1) at the export size, and at each ``--verify-shape`` of a
dynamic export, then the latency at batch 1 in that runtime; for ``--int8``
classifiers, the top-1 agreement with the float model on the config's test
images. A failed check exits with status 1, naming the output and the
difference.
"""
import argparse
import os.path as osp
import statistics
import time
import warnings
from typing import List, Optional

import numpy as np
import torch

from mmdualtoken.deployment import build_exportable, model_min_size
from mmdualtoken.deployment.runtimes import (FORMATS, RuntimeUnavailable,
                                             max_difference, torch_outputs)
from mmdualtoken.errors import ConfigError
from . import run

TOLERANCE = 1e-4
# INT8 classifiers: top-1 agreement with the float model, and the most
# top-1 may move, in points.
MIN_AGREEMENT, MAX_TOP1_CHANGE = 99.0, 1.0
LATENCY_RUNS = 30
RUNTIME_NAMES = dict(
    onnx='ONNX Runtime',
    openvino='OpenVINO',
    executorch='ExecuTorch (XNNPACK)',
    coreml='Core ML',
    tensorrt='TensorRT')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a model of a config to a deployment format and '
        'check it against PyTorch.')
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='weights (any location mmengine reads); random weights '
        'without it')
    parser.add_argument('--format', required=True, choices=sorted(FORMATS))
    parser.add_argument(
        '--int8',
        action='store_true',
        help='OpenVINO INT8 (NNCF post-training quantization, calibrated on '
        'the config\'s training images)')
    parser.add_argument(
        '--backbone-only',
        action='store_true',
        help='the backbone\'s feature maps (with our neck where the config '
        'has one), not the whole model')
    parser.add_argument(
        '--dynamic',
        action='store_true',
        help='dynamic batch, height and width (onnx, openvino, tensorrt)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='the export size (default 224 224; with --int8, the size of '
        'the config\'s test images)')
    parser.add_argument(
        '--verify-shape',
        type=int,
        nargs=2,
        action='append',
        default=[],
        metavar=('H', 'W'),
        help='also compare at this size (a dynamic export; batch 2)')
    parser.add_argument(
        '--threads', type=int, help='the runtime\'s CPU threads')
    parser.add_argument(
        '--out',
        help='the file (default: the config\'s name, beside the checkpoint '
        'or here)')
    args = parser.parse_args(argv)
    fmt = FORMATS[args.format]
    if args.int8 and args.format != 'openvino':
        parser.error('--int8 is OpenVINO\'s (NNCF): --format openvino')
    if args.dynamic and not fmt.dynamic:
        parser.error(f'{args.format} exports a static shape here: leave out '
                     f'--dynamic (onnx, openvino and tensorrt take it)')
    if args.verify_shape and not args.dynamic:
        parser.error('--verify-shape needs --dynamic: a static export serves '
                     'its own shape only')
    if args.out and not args.out.endswith(fmt.suffix):
        parser.error(f'--out: a {args.format} file ends in {fmt.suffix}')
    if args.shape and min(args.shape) < 32:
        parser.error('--shape: height and width must be at least 32')
    return args


def _out_path(args) -> str:
    if args.out:
        return args.out
    name = osp.splitext(osp.basename(args.config))[0]
    name += '_backbone' if args.backbone_only else ''
    name += '_int8' if args.int8 else ''
    return osp.join(
        osp.dirname(args.checkpoint or ''), name + FORMATS[args.format].suffix)


def latency(session, shape) -> float:
    """Median seconds of a batch-1 call, after three warm-up calls."""
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    for _ in range(3):
        session(x)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        session(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    fmt = FORMATS[args.format]
    runtime = RUNTIME_NAMES[args.format] + (' INT8' if args.int8 else '')
    model = build_exportable(args.config, args.checkpoint, args.backbone_only)
    images = None
    if args.int8:
        from mmdualtoken.deployment.quantization import calibration_images
        images = calibration_images(args.config)
    shape = tuple(
        args.shape or (images[0].shape[2:] if images else (224, 224)))
    example = torch.randn(2 if args.dynamic else 1, 3, *shape)
    out = _out_path(args)
    extra = dict(dataset=images) if images else {}
    fmt.export(model, example, out, args.dynamic, model_min_size(model),
               **extra)
    print(f'wrote {out}' +
          (' (dynamic batch, height and width)' if args.dynamic else ''))
    result = dict(path=out)
    try:
        session = fmt.session(out, args.threads, 'f32')
    except RuntimeUnavailable as unavailable:
        if not hasattr(fmt, 'check'):
            raise
        print(f'{fmt.check(out, model, example)}; {unavailable}')
        return result
    if images and not args.backbone_only:
        from mmdualtoken.deployment.quantization import \
            classification_agreement
        agreement = classification_agreement(model, session, args.config)
        result.update(agreement)
        print(f'{runtime} vs PyTorch on {agreement["images"]} test images of '
              f'the config: top-1 agreement {agreement["agreement"]:.1f} %, '
              f'top-1 {agreement["top1_runtime"]:.1f} % (float '
              f'{agreement["top1"]:.1f} %)')
        if (agreement['agreement'] < MIN_AGREEMENT
                or abs(agreement['top1'] - agreement['top1_runtime'])
                > MAX_TOP1_CHANGE):
            raise ConfigError(
                f'{out}: INT8 top-1 agrees with the float model on '
                f'{agreement["agreement"]:.1f} % of the images (at least '
                f'{MIN_AGREEMENT:g} % expected) and moves top-1 by '
                f'{agreement["top1_runtime"] - agreement["top1"]:+.1f} points '
                f'(at most {MAX_TOP1_CHANGE:g}).')
    else:
        shapes = [(1, 3, *shape)] + [(2, 3, *s) for s in args.verify_shape]
        rng = np.random.default_rng(0)
        worst = (0., 0, shapes[0])
        for size in shapes:
            x = rng.standard_normal(size, dtype=np.float32)
            error, output = max_difference(session(x), torch_outputs(model, x))
            worst = max(worst, (error, output, size))
        result['difference'] = worst[0]
        sizes = ', '.join(f'{s[2]}x{s[3]}' for s in shapes)
        print(f'{runtime} vs PyTorch at {sizes}: largest difference '
              f'{worst[0]:.1e} (output {worst[1]}; tolerance {TOLERANCE:.0e})')
        if worst[0] > TOLERANCE and not images:
            raise ConfigError(
                f'{out}: output {worst[1]} differs from PyTorch\'s by '
                f'{worst[0]:.1e} at {worst[2][2]}x{worst[2][3]} (tolerance '
                f'{TOLERANCE:.0e}).')
    result['latency'] = latency(session, (1, 3, *shape))
    print(f'latency at batch 1 in {runtime} (f32 precision hint, '
          f'{args.threads or "default"} threads): '
          f'{result["latency"] * 1e3:.2f} ms')
    return result


if __name__ == '__main__':
    run(main)
