"""Seconds per training iteration and peak memory of configs side by side.

Usage:
    python tools/analysis_tools/benchmark_train.py [CONFIG ...]
        [--shape H W] [--batch-size 2] [--rounds 3] [--device cpu|cuda]
        [--dtype fp32|bf16] [--compile] [--threads N] [--out results.json]

With no config, it compares Mask R-CNN and DeepLabv3 with DualToken-ViT-S
against the same detector and segmentor with a ResNet-18
(``configs/benchmark/``), at 512x512 by default. Each iteration is mmengine's
``train_step`` (forward, loss, backward, AdamW step) on a synthetic batch
with random boxes, masks or label maps; no weights are loaded. Configs
alternate in every round; each is compared with the first config of its
task. For classifiers the table also gives what 300 ImageNet-1k epochs cost
at the measured rate, in device-hours.
"""
import argparse
import json
import os.path as osp
import sys
import warnings
from dataclasses import asdict

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
import benchmarking  # noqa: E402  (beside this script)

DEFAULT_CONFIGS = [
    osp.join(ROOT, 'configs', path) for path in (
        'detection/mask-rcnn_dualtoken-vit-s_fpn_8xb2-1x_coco.py',
        'benchmark/mask-rcnn_r18_fpn_1x_coco.py',
        'segmentation/deeplabv3_dualtoken-vit-s_4xb4-80k_ade20k-512x512.py',
        'benchmark/deeplabv3_r18-d8_4xb4-80k_ade20k-512x512.py')
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS)
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'))
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--dtype',
        choices=['fp32', 'bf16'],
        default='fp32',
        help='bf16 runs under torch.autocast')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile each model\'s forward and loss (their backward '
        'with them); the data preprocessor and the optimizer step stay eager')
    parser.add_argument('--threads', type=int)
    parser.add_argument('--out', help='also write the results as JSON')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    settings = benchmarking.Settings(
        batch_size=args.batch_size,
        shape=tuple(args.shape),
        device=args.device,
        dtype=args.dtype,
        compile=args.compile,
        threads=args.threads,
        rounds=args.rounds)
    results = benchmarking.run_training(
        args.configs, settings,
        lambda line: print(f'[benchmark] {line}', file=sys.stderr, flush=True))
    print(f'train_step, batch {args.batch_size}, input {args.shape[0]}x'
          f'{args.shape[1]}; ' +
          benchmarking.describe_machine(settings).split('; batch')[0])
    print(benchmarking.training_table(results, args.batch_size))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    argv=sys.argv,
                    settings=asdict(settings),
                    results=[asdict(r) for r in results]),
                f,
                indent=2)
        print(f'results written to {args.out}')


if __name__ == '__main__':
    main()
