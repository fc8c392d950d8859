"""``tools/test.py``: evaluate a checkpoint on the config's test set, print
the metrics (top-1 / top-5, COCO mAP, mIoU) and write them to
``WORK_DIR/metrics.json``.

Saving predictions, painting them and test-time augmentation (``--out``,
``--show``, ``--show-dir``, ``--tta``) are the task library's own: with any
of them, the run is handed to its ``tools/test.py``.
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process

from mmdualtoken.apis.config import say
from mmdualtoken.engine.checkpoint_hook import write_atomically
from mmdualtoken.errors import CheckpointError
from . import run
from .config import check_datasets, load_config
from .host_tool import host_of, run_host_tool
from .options import add_common_args, set_local_rank
from .runs import evaluate

METRICS_HEADER = 'Test metrics:'
METRICS_FILE = 'metrics.json'
# mmdet's CocoMetric returns no metric when the whole test set has no
# detection (it logs "The testing results of the whole dataset is empty").
NO_METRICS = ('  none: the evaluator returned no metric. For COCO this means '
              'the model detected nothing above the score threshold '
              '(model.test_cfg) in the whole test set: an untrained or '
              'diverged checkpoint, or a threshold set too high.')
HOST_OPTIONS = ('--out', '--show', '--show-dir', '--tta', '--wait-time',
                '--interval')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a DualToken-ViT model.',
        epilog='--out, --show, --show-dir, --tta: handed to the task '
        'library\'s own tools/test.py (see its --help).')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='where the evaluation log and metrics.json go (default: the '
        'test/ sub-directory of the training work dir, which it leaves '
        'untouched)')
    add_common_args(parser)
    args = parser.parse_args(argv)
    set_local_rank(args.local_rank)
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    argv = list(argv or [])
    if any(arg.split('=')[0] in HOST_OPTIONS for arg in argv):
        config = next(arg for arg in argv if not arg.startswith('-'))
        host = host_of(config)
        say(f'{", ".join(a for a in argv if a.split("=")[0] in HOST_OPTIONS)}'
            f': handing over to {host}\'s own tools/test.py.')
        run_host_tool(host, 'test.py', argv)
        return {}
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    if args.work_dir is None:
        # Keep the training run's log and config dump intact.
        cfg.work_dir = osp.join(cfg.work_dir, 'test')
    check_datasets(cfg, ('test', ))
    if '://' not in args.checkpoint:
        if osp.isdir(args.checkpoint):
            pointer = osp.join(args.checkpoint, 'last_checkpoint')
            newest = (
                open(pointer).read().strip() if osp.isfile(pointer) else None)
            raise CheckpointError(
                f'{args.checkpoint!r} is a folder: name a checkpoint file in '
                f'it' + (f', e.g. its newest, {newest}'
                         if newest else ' (e.g. epoch_12.pth)') + '.')
        if not osp.isfile(args.checkpoint):
            raise CheckpointError(
                f'Checkpoint {args.checkpoint!r} does not exist.')
        if osp.getsize(args.checkpoint) == 0:
            raise CheckpointError(
                f'Checkpoint {args.checkpoint!r} is empty (cut short by a '
                f'kill or a full disk?): use an earlier checkpoint.')
    metrics = evaluate(cfg, args.checkpoint)
    if is_main_process():
        print(METRICS_HEADER)
        for name, value in metrics.items():
            print(f'  {name}: {value}')
        if not metrics:
            print(NO_METRICS)
        write_atomically(
            json.dumps(metrics, indent=1, default=float),  # numpy scalars
            osp.join(cfg.work_dir, METRICS_FILE))
    return metrics


if __name__ == '__main__':
    run(main)
