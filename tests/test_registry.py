import importlib

import pytest
import torch
from mmengine.registry import DefaultScope

from mmdualtoken.models import DualTokenViT


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet', 'mmseg'])
def test_backbone_builds_from_every_task_scope(scope):
    registry = importlib.import_module(f'{scope}.registry').MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(
            dict(
                type='mmdualtoken.DualTokenViT',
                arch='t-mix',
                out_indices=(1, 2)))
    assert isinstance(model, DualTokenViT)
    outs = model.eval()(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [96, 192]
