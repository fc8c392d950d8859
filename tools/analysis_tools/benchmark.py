"""Throughput, latency and memory of backbones side by side.

Usage:
    python tools/analysis_tools/benchmark.py [MODEL ...] [--batch-size 32]
        [--shape H W] [--device cpu|cuda] [--dtype fp32|bf16]
        [--channels-last] [--compile] [--compile-mode MODE] [--threads N]
        [--rounds 5] [--reference dualtoken-vit-s] [--profile] [--deploy]
        [--model-file PATH] [--out results.json]

With no model, it measures our T and S classifiers and the timm peers
(``pip install timm``; random weights, nothing downloaded). Models are
timed in alternating rounds; the table gives medians over the rounds, the
ratio of each model to the reference, and each model's achieved FLOP/s as
a fraction of this machine's matrix-product rate, measured in the same run.
"""
import argparse
import os.path as osp
import sys
import warnings

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
import benchmarking  # noqa: E402  (beside this script)

DEFAULT_MODELS = ['dualtoken-vit-t', 'dualtoken-vit-s', *benchmarking.PEERS]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='MODEL: ' + benchmarking.describe_models())
    parser.add_argument('models', nargs='*', default=DEFAULT_MODELS)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--dtype',
        choices=['fp32', 'bf16'],
        default='fp32',
        help='bf16 runs under torch.autocast')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument(
        '--compile', action='store_true', help='torch.compile each model')
    parser.add_argument(
        '--compile-mode',
        choices=['default', 'reduce-overhead', 'max-autotune'],
        help="torch.compile's mode (implies --compile); reduce-overhead "
        'replays CUDA graphs, for batch-1 latency on a GPU')
    parser.add_argument(
        '--threads', type=int, help='CPU threads (torch.set_num_threads)')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument(
        '--latency-runs',
        type=int,
        default=10,
        help='batch-1 calls per round (0: no latency)')
    parser.add_argument(
        '--reference',
        default='dualtoken-vit-s',
        help='the model the ratios divide by')
    parser.add_argument(
        '--inductor-counts',
        action='store_true',
        help='also count the kernels inductor generates for one compiled '
        'CPU forward (batch 8, fp32) and the bytes they move per image: a '
        'GPU-speed proxy that needs no GPU')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='also profile each model (torch.profiler, after the rounds): '
        'kernels per forward, the share of time in matrix products, the '
        'top kernels')
    parser.add_argument(
        '--deploy',
        action='store_true',
        help='measure every model in its inference form: our BatchNorm '
        'design (dualtoken-vit-{t,s}-bn) with its norms folded, timm\'s '
        're-parameterisable peers (repvit, fastvit) fused')
    parser.add_argument(
        '--model-file',
        action='append',
        default=[],
        metavar='PATH',
        help='a Python file that registers models in timm (for example '
        "LightViT's lib/models/lightvit.py from hunto/image_classification_"
        'sota); its models can then be named. Repeatable')
    parser.add_argument('--out', help='also write the results as JSON')
    args = parser.parse_args(argv)
    if args.device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            parser.error('--device cuda: no CUDA device is visible here')
    return args


def main(argv=None):
    args = parse_args(argv)
    settings = benchmarking.Settings(
        batch_size=args.batch_size,
        shape=tuple(args.shape),
        device=args.device,
        dtype=args.dtype,
        channels_last=args.channels_last,
        compile=args.compile or args.compile_mode is not None,
        compile_mode=args.compile_mode,
        threads=args.threads,
        rounds=args.rounds,
        latency_runs=args.latency_runs,
        inductor_counts=args.inductor_counts,
        profile=args.profile,
        deploy=args.deploy)
    warnings.filterwarnings('ignore')
    for path in args.model_file:
        benchmarking.register_model_file(path)

    def progress(line):
        # One line rewritten in place on a terminal; a line each in a log.
        if sys.stderr.isatty():
            print(
                f'\r\033[K[benchmark] {line}',
                end='',
                file=sys.stderr,
                flush=True)
        else:
            print(f'[benchmark] {line}', file=sys.stderr, flush=True)

    import torch
    progress('measuring the matrix-product rate')
    rates = {'fp32': benchmarking.matmul_rate(settings)}
    if args.dtype == 'bf16':
        rates['bf16'] = benchmarking.matmul_rate(settings, torch.bfloat16)
    results = benchmarking.run(args.models, settings, progress)
    if sys.stderr.isatty():
        print('\r\033[K', end='', file=sys.stderr)
    print(benchmarking.describe_machine(settings))
    print('matrix-product rate: ' + ', '.join(f'{k} {v / 1e9:.0f} GFLOP/s'
                                              for k, v in rates.items()))
    print(benchmarking.table(results, args.reference, settings, rates))
    for result in results:
        if result.profile:
            print(benchmarking.profile_summary(result))
    if args.out:
        benchmarking.save(args.out, results, settings, rates)
        print(f'results written to {args.out}')


if __name__ == '__main__':
    main()
