"""DualToken-ViT through timm's registry: the same implementation, timm's
model contract, our mmpretrain checkpoints, timm's optimizer and data
helpers, and mmpretrain's TIMMBackbone inside an mmdet config."""
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import REPO
from mmengine.logging import MessageHub

from mmdualtoken.apis import init_model
from mmdualtoken.models import DualTokenViT

timm = pytest.importorskip('timm')
import timm.data  # noqa: E402
import timm.optim  # noqa: E402

from mmdualtoken.models.timm_models import (  # noqa: E402 isort:skip
    TimmDualTokenViT, checkpoint_filter_fn)

NAMES = {
    'dualtoken_vit_t': 't',
    'dualtoken_vit_s': 's',
    'dualtoken_vit_t_mix': 't-mix',
    'dualtoken_vit_s_mix': 's-mix'
}
SIZES = [(224, 224), (225, 301)]


@pytest.mark.parametrize('name', NAMES)
def test_logits_and_feature_maps_at_any_size(name):
    model = timm.create_model(name, num_classes=10).eval()
    assert isinstance(model, DualTokenViT)
    features = timm.create_model(name, features_only=True).eval()
    assert features.feature_info.reduction() == [8, 16, 32]
    channels = DualTokenViT.arch_zoo[NAMES[name]]['embed_dims']
    assert features.feature_info.channels() == channels
    with torch.no_grad():
        for height, width in SIZES:
            image = torch.rand(2, 3, height, width)
            assert model(image).shape == (2, 10)
            maps = features(image)
            assert [tuple(m.shape) for m in maps
                    ] == [(2, c, math.ceil(height / s), math.ceil(width / s))
                          for c, s in zip(channels, (8, 16, 32))]
            pooled = model.forward_head(
                model.forward_features(image), pre_logits=True)
            assert pooled.shape == (2, 1280)


@pytest.mark.parametrize('name', NAMES)
def test_an_mmpretrain_checkpoint_gives_the_same_logits(name, tmp_path):
    config = (
        REPO / 'configs/classification' /
        f'dualtoken-vit-{NAMES[name]}_8xb128_in1k.py')
    classifier = init_model(str(config))
    path = tmp_path / 'epoch_300.pth'
    # As mmengine writes it: the message hub holds HistoryBuffers of numpy
    # values, which timm's weights_only load reads through our allow-list.
    hub = MessageHub.get_instance(f'timm-{name}')
    hub.update_scalar('train/loss', np.float64(1.5))
    torch.save(
        dict(
            meta=dict(epoch=300),
            state_dict=classifier.state_dict(),
            message_hub=hub.state_dict()), path)
    model = timm.create_model(
        name, pretrained=True,
        pretrained_cfg_overlay=dict(file=str(path))).eval()
    image = torch.rand(2, 3, 225, 301)
    with torch.no_grad():
        expected = classifier(image, mode='tensor')
        torch.testing.assert_close(model(image), expected, rtol=0, atol=1e-5)
        # timm drops the classifier of a checkpoint with other classes.
        few = timm.create_model(
            name,
            pretrained=True,
            num_classes=3,
            pretrained_cfg_overlay=dict(file=str(path))).eval()
        torch.testing.assert_close(
            few.forward_head(few.forward_features(image), pre_logits=True),
            model.forward_head(model.forward_features(image), pre_logits=True))
    state = torch.load(path, weights_only=True)['state_dict']
    model.load_state_dict(checkpoint_filter_fn(state, model))  # strict


def test_timm_optimizer_with_layer_decay_trains_every_parameter():
    model = timm.create_model('dualtoken_vit_s', num_classes=4)
    model.set_grad_checkpointing()
    optimizer = timm.optim.create_optimizer_v2(
        model, 'adamw', lr=1e-3, weight_decay=0.05, layer_decay=0.75)
    scales = sorted({group['lr_scale'] for group in optimizer.param_groups})
    assert len(scales) == 2 + sum(model.arch_settings['depths'])
    decayed = {
        id(p)
        for group in optimizer.param_groups if group['weight_decay'] > 0
        for p in group['params']
    }
    assert id(model.global_tokens) not in decayed
    assert id(model.stem.norm.weight) not in decayed
    model.train()
    loss = torch.nn.functional.cross_entropy(
        model(torch.rand(2, 3, 64, 64)), torch.tensor([0, 3]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    optimizer.step()
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_timm_data_config_is_lightvits_evaluation():
    model = timm.create_model('dualtoken_vit_t')
    config = timm.data.resolve_data_config({}, model=model)
    assert config['input_size'] == (3, 224, 224)
    assert config['interpolation'] == 'bicubic'
    assert config['crop_pct'] == 0.875
    transform = timm.data.create_transform(**config)
    from PIL import Image
    assert transform(Image.new('RGB', (300, 400))).shape == (3, 224, 224)
    assert model.get_classifier().out_features == 1000
    model.reset_classifier(5)
    assert model.get_classifier().out_features == 5


def test_timm_backbone_of_mmpretrain_in_an_mmdet_config_trains():
    from helpers import assert_detector_trains
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(
        str(REPO / 'configs/detection/mask-rcnn_dualtoken-vit-s_fpn_8xb2'
            '-1x_coco.py'))
    cfg.model.backbone = dict(
        type='mmpretrain.TIMMBackbone',
        model_name='dualtoken_vit_s',
        features_only=True,
        out_indices=(0, 1, 2))
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone.timm_model.model, TimmDualTokenViT)
    assert_detector_trains(
        model, (160, 224),
        global_tokens=model.backbone.timm_model.model.global_tokens)


def test_the_package_needs_no_timm(tmp_path):
    (tmp_path / 'timm').mkdir()
    (tmp_path / 'timm/__init__.py'
     ).write_text('raise ImportError("timm is not installed")\n')
    code = ('import mmdualtoken, mmdualtoken.apis, mmdualtoken.cli.train, '
            'mmdualtoken.cli.test, mmdualtoken.toy_data\n'
            'from mmdualtoken.models import DualTokenViT\n'
            'import torch\n'
            'DualTokenViT("t")(torch.rand(1, 3, 64, 64))\n')
    subprocess.run([sys.executable, '-c', code],
                   check=True,
                   env={
                       'PYTHONPATH': str(tmp_path),
                       'PATH': '/usr/bin:/bin'
                   })
