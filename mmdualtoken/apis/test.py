"""Testing entry point shared by classification, detection and
segmentation configs (``tools/test.py``): evaluates a checkpoint and prints
the metrics (top-1 / top-5, COCO mAP, mIoU)."""
import argparse
import os.path as osp
from copy import deepcopy
from typing import Optional, Sequence

from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from ..datasets import add_data_checks, data_errors_as_messages
from ..engine.checkpoint import UnsafeCheckpointError, weights_of
from .config import (add_common_args, build_runner, check_datasets,
                     load_config, set_local_rank)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a DualToken-ViT model.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='where the evaluation log and metrics go (default: the '
        'test/ sub-directory of the training work dir, which it leaves '
        'untouched)')
    parser.add_argument(
        '--out',
        help='save predictions. Classification: a .pkl of the results; '
        'detection: a .pkl of mmdet\'s results, or any other path as the '
        'prefix of COCO-format PREFIX.bbox.json / PREFIX.segm.json; '
        'segmentation: a directory of predicted label-map PNGs')
    parser.add_argument(
        '--show-dir', help='directory where painted predictions are saved')
    parser.add_argument(
        '--show', action='store_true', help='show each painted prediction')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='seconds each shown picture stays (--show)')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='paint every INTERVAL-th test batch (default: every one)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s tta_model and '
        'tta_pipeline, or a horizontal flip where the task library has a '
        'default (classification, detection)')
    add_common_args(parser)
    args = parser.parse_args(argv)
    set_local_rank(args.local_rank)
    return args


def _visualize(cfg: Config, args: argparse.Namespace) -> None:
    """Turns on the task library's visualization hook for every
    ``args.interval``-th batch (the hooks' own defaults skip most images)."""
    hook = cfg.default_hooks.visualization
    hook.update(
        show=args.show, wait_time=args.wait_time, interval=args.interval)
    if cfg.default_scope == 'mmpretrain':
        hook.update(enable=True, out_dir=args.show_dir)
    elif cfg.default_scope == 'mmdet':
        hook.update(draw=True, test_out_dir=args.show_dir)
    else:
        hook.update(draw=True)
        if args.show_dir:
            cfg.visualizer.save_dir = args.show_dir


# Where a task library's own tools/test.py builds a flip TTA when the config
# has none: the model wrapper and the packing transform's meta keys.
_DEFAULT_TTA = dict(
    mmpretrain=(dict(type='mmpretrain.AverageClsScoreTTA'), None),
    mmdet=(dict(
        type='DetTTAModel',
        tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5),
                     max_per_img=100)),
           ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
            'flip', 'flip_direction')),
)


def _test_time_augmentation(cfg: Config) -> None:
    """Wraps the model in the config's TTA model and swaps in its
    ``tta_pipeline``, as the task libraries' tools/test.py do."""
    scope = cfg.default_scope
    if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
        if scope not in _DEFAULT_TTA:
            raise SystemExit(
                f'--tta: the config defines no tta_model / tta_pipeline and '
                f'{scope} has no default; add them to the config.')
        tta_model, meta_keys = _DEFAULT_TTA[scope]
        cfg.setdefault('tta_model', tta_model)
        if 'tta_pipeline' not in cfg:
            pipeline = deepcopy(cfg.test_dataloader.dataset.pipeline)
            pack = deepcopy(pipeline[-1])
            if meta_keys:
                pack['meta_keys'] = meta_keys
            pipeline[-1] = dict(
                type='TestTimeAug',
                transforms=[[
                    dict(type='RandomFlip', prob=1.),
                    dict(type='RandomFlip', prob=0.)
                ], [pack]])
            cfg.tta_pipeline = pipeline
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def _evaluators(cfg: Config) -> list:
    evaluator = cfg.test_evaluator
    return list(evaluator) if isinstance(evaluator,
                                         (list, tuple)) else [evaluator]


def _save_predictions(cfg: Config, out: str) -> None:
    """Configures the task library's own way of saving predictions."""
    scope = cfg.default_scope
    if scope == 'mmseg':
        # mmseg's IoUMetric writes label-map PNGs and still computes mIoU.
        for evaluator in _evaluators(cfg):
            evaluator.update(output_dir=out, keep_results=True)
    elif scope == 'mmdet' and not out.endswith(('.pkl', '.pickle')):
        # CocoMetric writes OUT.bbox.json / OUT.segm.json for pycocotools.
        for evaluator in _evaluators(cfg):
            evaluator.update(outfile_prefix=out)
    elif not out.endswith(('.pkl', '.pickle')):
        raise SystemExit(f'--out {out!r}: give a .pkl file for this task.')
    else:
        dump = 'DumpDetResults' if scope == 'mmdet' else 'DumpResults'
        cfg.test_evaluator = [
            *_evaluators(cfg),
            dict(type=dump, out_file_path=out)
        ]


def _summary(kind: str, names: list) -> str:
    shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
    return f'  {len(names)} {kind}: {shown}'


def load_weights_strictly(model: nn.Module, checkpoint: str) -> None:
    """Loads a checkpoint that must fit the model exactly.

    Accepts what mmengine's loader accepts (local paths, URLs,
    ``open-mmlab://``-style prefixes) holding a state dict, as is or under
    ``state_dict`` or ``model``, with or without ``module.`` prefixes. Any
    missing, unexpected or mis-shaped key stops with a short summary, as a
    test of the wrong weights would only print chance-level metrics.
    """
    state = weights_of(_load_checkpoint(checkpoint, map_location='cpu'))
    while hasattr(model, 'module'):  # DDP and TTA wrappers
        model = model.module
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f'{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}'
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape)
    if missing or unexpected or mismatched:
        problems = [
            _summary(kind, names)
            for kind, names in [('missing keys',
                                 missing), ('unexpected keys', unexpected),
                                ('shape mismatches (checkpoint'
                                 ' vs model)', mismatched)] if names
        ]
        raise SystemExit(
            f'{checkpoint} does not fit the model of this config:\n' +
            '\n'.join(problems) + '\nIs it a checkpoint of this config\'s '
            'variant and task (e.g. T vs S, a classifier vs a detector)?')
    model.load_state_dict(state)


METRICS_HEADER = 'Test metrics:'


def parse_test_metrics(output: str) -> dict:
    """Reads back the metrics block :func:`main` prints (for scripts that
    run tools/test.py as a command)."""
    metrics = {}
    for line in output.split(METRICS_HEADER)[-1].strip().splitlines():
        name, _, value = line.strip().partition(': ')
        try:
            metrics[name] = float(value)
        except ValueError:
            break
    return metrics


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise SystemExit(f'Checkpoint {args.checkpoint!r} does not exist.')
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    if args.work_dir is None:
        # Keep the training run's log and config dump intact.
        cfg.work_dir = osp.join(cfg.work_dir, 'test')
    check_datasets(cfg, ('test', ))
    add_data_checks(cfg)
    # Loaded strictly below, once the runner has built the model.
    cfg.load_from = None
    if args.show or args.show_dir:
        _visualize(cfg, args)
    if args.tta:
        if cfg.default_scope == 'mmpretrain' and (args.show or args.show_dir):
            raise SystemExit(
                'mmpretrain\'s visualization hook cannot paint TTA batches: '
                'run --show / --show-dir without --tta.')
        _test_time_augmentation(cfg)
    if args.out:
        _save_predictions(cfg, args.out)

    runner = build_runner(cfg)
    try:
        load_weights_strictly(runner.model, args.checkpoint)
    except UnsafeCheckpointError as error:
        raise SystemExit(str(error)) from None
    with data_errors_as_messages():
        metrics = runner.test()
    if is_main_process():
        print(METRICS_HEADER)
        for name, value in metrics.items():
            print(f'  {name}: {value}')
    return metrics
