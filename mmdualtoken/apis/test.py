"""Testing entry point shared by classification, detection and
segmentation configs (``tools/test.py``): evaluates a checkpoint and prints
the metrics (top-1 / top-5, COCO mAP, mIoU)."""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.dist import is_main_process

from .config import add_common_args, build_runner, load_config, set_local_rank


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


def _evaluators(cfg: Config) -> list:
    evaluator = cfg.test_evaluator
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [
        evaluator
    ]


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
        cfg.test_evaluator = [*_evaluators(cfg),
                              dict(type=dump, out_file_path=out)]


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
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'Checkpoint {args.checkpoint!r} does not exist.')
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        _show_dir(cfg, args.show_dir)
    if args.out:
        _save_predictions(cfg, args.out)

    runner = build_runner(cfg)
    metrics = runner.test()
    if is_main_process():
        print(METRICS_HEADER)
        for name, value in metrics.items():
            print(f'  {name}: {value}')
    return metrics
