"""Loss and metric curves of training runs.

Usage:
    python tools/analysis_tools/analyze_logs.py plot_curve RUN [RUN ...]
        [--keys loss accuracy/top1] [--legend NAME ...] [--out curves.png]

RUN is a work dir (its newest ``<timestamp>/vis_data/scalars.json``) or a
``scalars.json`` written by mmengine. Each key gets one panel with a line
per run, against training iterations; validation metrics logged by epoch
are placed at the last iteration of their epoch.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from collections import defaultdict


def scalars_file(run: str) -> str:
    if osp.isfile(run):
        return run
    found = sorted(glob.glob(osp.join(run, '*', 'vis_data', 'scalars.json')))
    if not found:
        sys.exit(f'{run}: no */vis_data/scalars.json under it (pass a work '
                 f'dir of tools/train.py, or the file itself).')
    return found[-1]


def load_curves(path: str) -> dict:
    """{key: ([x], [y])}, x in training iterations."""
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    last_iter_of_epoch = {}
    for record in records:
        if 'iter' in record and 'epoch' in record:
            last_iter_of_epoch[record['epoch']] = max(
                record['iter'], last_iter_of_epoch.get(record['epoch'], 0))
    curves = defaultdict(lambda: ([], []))
    for record in records:
        if 'iter' in record:
            x = record['iter']
        else:  # a validation record: step is the epoch or the iteration
            x = last_iter_of_epoch.get(record['step'], record['step'])
        for key, value in record.items():
            if key not in ('epoch', 'iter', 'step') and isinstance(
                    value, (int, float)):
                curves[key][0].append(x)
                curves[key][1].append(value)
    return dict(curves)


def plot_curve(args) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    runs = [load_curves(scalars_file(run)) for run in args.runs]
    legends = args.legend or [
        osp.basename(osp.normpath(run)) for run in args.runs
    ]
    if len(legends) != len(runs):
        sys.exit('--legend needs one name per run')
    for key in args.keys:
        if not any(key in curves for curves in runs):
            available = sorted({k for curves in runs for k in curves})
            sys.exit(f'No run logged {key!r}; logged keys: {available}')
    figure, axes = plt.subplots(
        len(args.keys), 1, figsize=(7, 3 * len(args.keys)), squeeze=False)
    for axis, key in zip(axes[:, 0], args.keys):
        for curves, legend in zip(runs, legends):
            if key in curves:
                xs, ys = curves[key]
                axis.plot(
                    xs, ys, marker='o' if len(xs) < 20 else None, label=legend)
        axis.set_title(key)
        axis.set_xlabel('iteration')
        axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f'saved {args.out}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    curve = commands.add_parser('plot_curve', help='plot scalars of runs')
    curve.add_argument('runs', nargs='+', help='work dirs or scalars.json')
    curve.add_argument('--keys', nargs='+', default=['loss'])
    curve.add_argument('--legend', nargs='+')
    curve.add_argument('--out', default='curves.png')
    args = parser.parse_args(argv)
    plot_curve(args)


if __name__ == '__main__':
    main()
