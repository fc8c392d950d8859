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
from runtime_benchmarking import RUNTIMES  # noqa: E402

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
        'top kernels; with --runtime, in ONNX Runtime and OpenVINO at batch '
        '1, by their own profilers: time by operation type')
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
    parser.add_argument(
        '--runtime',
        help='comma-separated runtimes (' + ','.join(RUNTIMES) + '): every '
        'model exported to each (tools/deployment/export.py\'s code) and '
        'measured in each in one run, alternating, at batch 1 and '
        '--batch-size, one runtime\'s process running at a time. '
        'openvino-bf16 is added where OpenVINO runs bf16 on this CPU')
    parser.add_argument(
        '--export-dir',
        default='work_dirs/runtime_benchmark',
        help='where --runtime writes the exports; files already there are '
        'reused')
    parser.add_argument('--out', help='also write the results as JSON')
    args = parser.parse_args(argv)
    if args.runtime:
        unknown = set(args.runtime.split(',')) - set(RUNTIMES)
        if unknown:
            parser.error(f'--runtime: unknown {sorted(unknown)}; choose from '
                         f'{",".join(RUNTIMES)}')
        if not args.threads:
            parser.error('--runtime needs --threads: every runtime is given '
                         'the same number')
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

    if args.runtime:
        return runtime_main(args, progress)
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


def runtime_main(args, progress) -> None:
    import json
    import platform
    from dataclasses import asdict

    import runtime_benchmarking as rb
    runtimes = args.runtime.split(',')
    if 'openvino' in runtimes and 'openvino-bf16' not in runtimes and \
            rb.openvino_has_bf16():
        runtimes.insert(runtimes.index('openvino') + 1, 'openvino-bf16')
    builder = benchmarking.DeployedBuilder(
        tuple(args.shape), tuple(args.model_file))
    models = {}
    for name in args.models:
        progress(f'building {name}')
        models[name] = builder(name)
    results = rb.run_runtimes(models, runtimes, args.export_dir, builder,
                              args.shape, args.batch_size, args.threads,
                              args.rounds, args.latency_runs, progress)
    profiles = {}
    failed = {(r.model, r.runtime) for r in results if r.error}
    if args.profile:
        for name in models:
            for runtime in ('onnxruntime', 'openvino', 'openvino-bf16'):
                if runtime in runtimes and (name, runtime) not in failed:
                    progress(f'profile of {name} in {runtime}')
                    profiles[f'{name} {runtime}'] = rb.runtime_profile(
                        runtime,
                        rb.export_file(args.export_dir, name, runtime, 1),
                        args.shape, args.threads)
    if sys.stderr.isatty():
        print('\r\033[K', end='', file=sys.stderr)
    machine = (f'{cpu_name()}, {args.threads} threads; input '
               f'{args.shape[0]}x{args.shape[1]}; inference forms')
    print(machine)
    print(rb.table(results, args.reference, args.batch_size))
    for precision in ('f32', 'bf16'):
        for metric in ('latency', 'throughput'):
            best = rb.fastest(results, precision, metric)
            if best:
                print(f'fastest {precision} runtime by {metric}: ' + ', '.join(
                    f'{name} {r.runtime} '
                    f'({r.median_latency() * 1e3:.2f} ms)' if metric ==
                    'latency' else
                    f'{name} {r.runtime} ({r.median_throughput():.1f} img/s)'
                    for name, r in best.items()))
    for key, profile in profiles.items():
        print(rb.profile_summary(key.split()[0], profile))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    machine=machine,
                    profiles=profiles,
                    cpu=cpu_name(),
                    python=platform.python_version(),
                    argv=sys.argv,
                    threads=args.threads,
                    batch_size=args.batch_size,
                    results=[asdict(r) for r in results]),
                f,
                indent=2)
        print(f'results written to {args.out}')


def cpu_name() -> str:
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return 'CPU'


if __name__ == '__main__':
    main()
