"""Testing entry point shared by classification, detection and
segmentation configs (``tools/test.py``): evaluates a checkpoint and prints
the metrics (top-1 / top-5, COCO mAP, mIoU)."""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .config import (add_common_args, init_cpu_process_group, load_config,
                     set_local_rank)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a DualToken-ViT model.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='where the evaluation log and metrics go')
    parser.add_argument(
        '--out',
        help='save predictions. Classification: a .pkl of the results; '
        'detection: a .pkl of mmdet\'s results, or any other path as the '
        'prefix of COCO-format PREFIX.bbox.json / PREFIX.segm.json; '
        'segmentation: a directory of predicted label-map PNGs')
    parser.add_argument(
        '--show-dir', help='directory where painted predictions are saved')
    add_common_args(parser)
    args = parser.parse_args(argv)
    set_local_rank(args.local_rank)
    return args


def _show_dir(cfg: Config, show_dir: str) -> None:
    """Turns on the task library's visualization hook."""
    hook = cfg.default_hooks.visualization
    if cfg.default_scope == 'mmpretrain':
        hook.update(enable=True, out_dir=show_dir)
    elif cfg.default_scope == 'mmdet':
        hook.update(draw=True, test_out_dir=show_dir)
    else:
        hook.update(draw=True)
        cfg.visualizer.save_dir = show_dir


def _save_predictions(cfg: Config, runner: Runner, out: str) -> None:
    scope = cfg.default_scope
    if scope == 'mmseg':
        # mmseg's IoUMetric writes label-map PNGs (format_only off: the
        # metrics are still computed).
        for metric in runner.test_evaluator.metrics:
            if hasattr(metric, 'output_dir'):
                metric.output_dir = out
                metric.keep_results = True
        return
    if scope == 'mmdet' and not out.endswith(('.pkl', '.pickle')):
        for metric in runner.test_evaluator.metrics:
            if hasattr(metric, 'outfile_prefix'):
                metric.outfile_prefix = out
        return
    if not out.endswith(('.pkl', '.pickle')):
        raise SystemExit(f'--out {out!r}: give a .pkl file for this task.')
    if scope == 'mmdet':
        from mmdet.evaluation import DumpDetResults
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=out))
    else:
        from mmpretrain.evaluation import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=out))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'Checkpoint {args.checkpoint!r} does not exist.')
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        _show_dir(cfg, args.show_dir)

    init_cpu_process_group(cfg)
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    if args.out:
        _save_predictions(cfg, runner, args.out)
    metrics = runner.test()
    if is_main_process():
        print('Test metrics:')
        for name, value in metrics.items():
            print(f'  {name}: {value}')
    return metrics
