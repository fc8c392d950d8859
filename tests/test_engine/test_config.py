"""Overrides of the run's length: the schedulers follow and stay valid."""
import os.path as osp

import pytest
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from torch import nn

from mmdualtoken.cli.config import load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLS_DEMO = osp.join(ROOT, 'configs/classification/demo',
                    'dualtoken-vit-t_1xb32-16e_toy-imagenet-32px.py')


def phases(cfg):
    return [(s.type, s.get('begin', 0), s.end) for s in cfg.param_scheduler]


@pytest.mark.parametrize('epochs', [1, 2, 3, 15, 60])
def test_shorter_or_longer_runs_keep_valid_schedulers(epochs, tmp_path):
    cfg = load_config(
        CLS_DEMO, {'train_cfg.max_epochs': epochs}, work_dir=str(tmp_path))
    warmup, cosine = phases(cfg)
    assert warmup[1] == 0 and warmup[2] <= cosine[1]
    assert cosine[1] < cosine[2] and cosine[2] >= epochs
    optimizer = build_optim_wrapper(nn.Linear(2, 2), cfg.optim_wrapper)
    for scheduler in cfg.param_scheduler:
        built = PARAM_SCHEDULERS.build(
            dict(scheduler, optimizer=optimizer.optimizer, epoch_length=8))
        assert built.begin < built.end


def test_unchanged_length_keeps_the_schedule(tmp_path):
    cfg = load_config(
        CLS_DEMO, {'train_cfg.val_interval': 5}, work_dir=str(tmp_path))
    assert phases(cfg) == phases(load_config(CLS_DEMO, work_dir=str(tmp_path)))
