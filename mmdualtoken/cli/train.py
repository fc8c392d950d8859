"""``tools/train.py``: train a model from an mmpretrain, mmdet or mmseg
config."""
import argparse
from typing import List, Optional

import torch

from mmdualtoken.apis.config import say
from mmdualtoken.engine.preemption import started_by_slurm_requeue
from mmdualtoken.errors import ConfigError
from . import run
from .config import (apply_on_resume, check_datasets, check_pretrained,
                     load_config, missing_protections)
from .options import add_common_args, set_local_rank
from .runs import resume_checkpoint, train


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a DualToken-ViT model (mmpretrain, mmdet or mmseg '
        'config).')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='where logs and checkpoints go (default: '
        './work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or without CKPT from the newest complete '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (needs a CUDA device)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual / the config\'s base batch size')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    add_common_args(parser)
    args = parser.parse_args(argv)
    set_local_rank(args.local_rank)
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    check_pretrained(cfg, args.config)
    if args.amp:
        if not torch.cuda.is_available():
            raise ConfigError(
                '--amp needs a CUDA device (mmengine\'s AmpOptimWrapper); '
                'this machine has none. Train without --amp on CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ConfigError(
                '--auto-scale-lr needs auto_scale_lr.base_batch_size in the '
                'config.')
        cfg.auto_scale_lr.enable = True
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    check_datasets(cfg, ('train', 'val'))

    missing = missing_protections(cfg)
    if missing:
        say(f'{args.config} does not declare default_hooks '
            f'{", ".join(missing)} of mmdualtoken\'s runtime bases: this run '
            f'has none of their protections (atomic checkpoints, exact '
            f'resume, data checks, preemption, divergence, one run per work '
            f'dir). Inherit configs/_base_/default_runtime_*.py to get them.')
    resume = args.resume
    if resume is None and started_by_slurm_requeue():
        resume = 'auto'
        say('Slurm requeued this job: resuming from its newest checkpoint.')
    if resume is not None:
        cfg.resume = True
        cfg.load_from = resume_checkpoint(resume, cfg.work_dir)
        apply_on_resume(cfg, args.cfg_options or {})
    train(cfg)


if __name__ == '__main__':
    run(main)
