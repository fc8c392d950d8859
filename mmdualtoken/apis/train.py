"""Training entry point shared by classification, detection and
segmentation configs (``tools/train.py``)."""
import argparse
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.logging import print_log

from ..datasets import add_data_checks, data_errors_as_messages
from ..engine import latest_checkpoint, make_resumable
from .config import (add_common_args, build_runner, check_datasets,
                     check_pretrained, load_config, set_local_rank)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
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
        help='resume from CKPT, or without CKPT from the latest checkpoint '
        'in the work dir')
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


def _resume_checkpoint(resume: str, work_dir: str) -> str:
    """The checkpoint ``--resume [CKPT]`` names; stops with what to do when
    there is none, instead of training from scratch over an earlier run's
    checkpoints."""
    if resume != 'auto':
        if '://' not in resume and not osp.isfile(resume):
            raise SystemExit(f'--resume {resume}: no such checkpoint.')
        return resume
    checkpoint = latest_checkpoint(work_dir)
    if checkpoint is None:
        raise SystemExit(
            f'--resume: nothing to resume in {work_dir!r} (no '
            f'last_checkpoint, no epoch_N.pth or iter_N.pth). Pass the work '
            f'dir of the run (--work-dir DIR) or its checkpoint (--resume '
            f'CKPT), or leave out --resume to start a new run.')
    print_log(f'Resuming from {checkpoint}', 'current')
    return checkpoint


def _use_atomic_checkpoints(cfg) -> None:
    """Saves checkpoints with :class:`AtomicCheckpointHook`."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if hook and hook.get('type') in ('CheckpointHook',
                                     'mmengine.CheckpointHook'):
        hook.type = 'mmdualtoken.AtomicCheckpointHook'


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    check_pretrained(cfg, args.config)

    if args.amp:
        if not torch.cuda.is_available():
            raise SystemExit(
                '--amp needs a CUDA device (mmengine\'s AmpOptimWrapper); '
                'this machine has none. Train without --amp on CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise SystemExit(
                '--auto-scale-lr needs auto_scale_lr.base_batch_size in the '
                'config.')
        cfg.auto_scale_lr.enable = True

    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    check_datasets(cfg, ('train', 'val'))
    add_data_checks(cfg)

    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = _resume_checkpoint(args.resume, cfg.work_dir)
    _use_atomic_checkpoints(cfg)
    make_resumable(cfg)

    runner = build_runner(cfg)
    with data_errors_as_messages():
        runner.train()
