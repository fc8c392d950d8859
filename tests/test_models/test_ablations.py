"""The paper's ablations as switches of the one backbone, and the backbone
conventions users expect (norm / act configs, layer-wise lr decay)."""
import logging
import math

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from mmdualtoken.models import DualTokenViT
from mmdualtoken.models.layers import (GlobalTokenAttention,
                                       WindowAttentionEncoder)
from mmdualtoken.models.layers.attention import resize_token_grid

SWITCHES = {
    'normal-global-tokens': dict(global_token_fusion='attention'),
    'window-attention': dict(local_branch='window_attention'),
    'one-step': dict(arch='t-mix', downsample='one_step'),
    'grid-3x3': dict(global_token_grid=(3, 3)),
    'grid-14x14-mix': dict(arch='t-mix', global_token_grid=(14, 14)),
    'grid-3x5': dict(global_token_grid=(3, 5)),
    'depthwise-steps': dict(step_conv='depthwise'),
    'full-steps': dict(step_conv='full'),
    'batchnorm-design': dict(block_norm_cfg=dict(type='BN')),
}


def build(arch='t', **kwargs):
    return DualTokenViT(arch=arch, out_indices=(0, 1, 2), **kwargs)


@pytest.mark.parametrize('switch', SWITCHES.values(), ids=SWITCHES.keys())
@pytest.mark.parametrize('size', [(224, 224), (97, 131)])
def test_switch_gives_ceil_sized_outputs_and_trains_every_parameter(
        switch, size):
    model = build(**switch)
    outs = model(torch.rand(2, 3, *size))
    assert [tuple(o.shape[-2:]) for o in outs] == [
        tuple(math.ceil(s / stride) for s in size) for stride in (8, 16, 32)
    ]
    assert [o.shape[1] for o in outs] == model.embed_dims
    sum(o.square().mean() for o in outs).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    # The mix variants' last token-mixing MLP updates tokens nobody reads.
    last = f'stages.2.{len(model.stages[2]) - 1}.token_mlp'
    assert all(n.startswith(last) for n in unused), unused


def test_switches_build_the_blocks_they_name():
    block = build(
        global_token_fusion='attention',
        local_branch='window_attention').stages[0][0]
    assert isinstance(block.token_module, GlobalTokenAttention)
    assert isinstance(block.local_encoder, WindowAttentionEncoder)
    one_step = build(downsample='one_step').stages[0][0].token_module
    assert len(one_step.downsample.reduce) == 0
    assert one_step.downsample.factor == 4


@pytest.mark.parametrize('kwargs,match', [
    (dict(global_token_fusion='sum'), 'global_token_fusion'),
    (dict(local_branch='mlp'), 'local_branch'),
    (dict(downsample='two_step'), 'downsample'),
    (dict(step_conv='dilated'), 'step_conv'),
    (dict(global_token_grid=(0, 7)), 'global_token_grid'),
])
def test_bad_switch_values_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(**kwargs)


def test_window_attention_masks_padding_like_per_window_attention():
    torch.manual_seed(0)
    layer = WindowAttentionEncoder(8, num_heads=2, window_size=4).eval()
    x = torch.randn(1, 6, 5, 8)  # windows of 4x4, 4x1, 2x4 and 2x1 cells
    out = layer(x)
    normed = layer.norm(x)
    expected = torch.empty_like(x)
    for top in range(0, 6, 4):
        for left in range(0, 5, 4):
            window = normed[:, top:top + 4, left:left + 4]
            rows, cols = window.shape[1:3]
            tokens = window.reshape(1, rows * cols, 8)
            q, k, v = layer.qkv(tokens).chunk(3, dim=-1)
            heads = [
                torch.softmax(qh @ kh.transpose(1, 2) / math.sqrt(4), -1) @ vh
                for qh, kh, vh in zip(
                    q.split(4, -1), k.split(4, -1), v.split(4, -1))
            ]
            window_out = layer.proj(torch.cat(heads, -1))
            expected[:, top:top + 4, left:left + 4] = (
                x[:, top:top + 4, left:left + 4] +
                window_out.reshape(1, rows, cols, 8))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_checkpoint_of_another_grid_loads_resized_and_logged(tmp_path):
    source = build(global_token_grid=(3, 3))
    checkpoint = tmp_path / 'grid3.pth'
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in source.state_dict().items()
        }), checkpoint)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_instance('test_grid_resize', log_level='INFO')
    logger.addHandler(handler)
    target = build(
        init_cfg=dict(
            type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.'))
    target.init_weights()
    logger.removeHandler(handler)

    expected = resize_token_grid(source.global_tokens.detach(), (7, 7))
    torch.testing.assert_close(target.global_tokens.detach(), expected)
    torch.testing.assert_close(target.stages[2][0].ffn.fc1.weight,
                               source.stages[2][0].ffn.fc1.weight)
    messages = '\n'.join(r.getMessage() for r in records)
    assert 'Resized global_tokens from a 3x3 grid to 7x7' in messages
    assert 'size mismatch' not in messages

    # load_state_dict directly does the same.
    direct = build()
    direct.load_state_dict(source.state_dict())
    torch.testing.assert_close(direct.global_tokens.detach(), expected)


def test_norm_cfg_and_act_cfg_reach_every_layer():
    model = build(norm_cfg=dict(type='SyncBN'), act_cfg=dict(type='ReLU'))
    norms = [
        m for m in model.stem.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    assert len(norms) == 4
    assert all(isinstance(m, nn.SyncBatchNorm) for m in norms)
    assert not [m for m in model.modules() if isinstance(m, nn.GELU)]
    assert any(isinstance(m, nn.ReLU) for m in model.modules())


def test_layer_depth_drives_mmpretrain_layer_decay():
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    init_default_scope('mmpretrain')
    classifier = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='mmdualtoken.DualTokenViT', arch='t'),
            neck=dict(type='mmdualtoken.TokenProjectionNeck', in_channels=192),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=1280)))
    depth = classifier.backbone.get_layer_depth
    num_layers = sum(classifier.backbone.arch_settings['depths']) + 2
    assert depth('backbone.stem.proj.weight', 'backbone.') == (0, num_layers)
    assert depth('backbone.global_tokens', 'backbone.')[0] == 0
    assert depth('backbone.stages.0.1.ffn.fc1.weight', 'backbone.')[0] == 2
    assert depth('backbone.merge_patches.0.reduction.weight',
                 'backbone.')[0] == 3
    assert depth('backbone.stages.1.0.ffn.fc1.weight', 'backbone.')[0] == 3
    assert depth('head.fc.weight', 'backbone.')[0] == num_layers - 1

    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='LearningRateDecayOptimWrapperConstructor',
            optim_wrapper_cfg=dict(
                type='OptimWrapper',
                optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
            paramwise_cfg=dict(layer_decay_rate=0.5)))
    groups = constructor(classifier).optimizer.param_groups
    lr = {g['param_name']: g['lr'] for g in groups}
    assert lr['head.fc.weight'] == pytest.approx(1e-3)
    assert lr['backbone.stem.proj.weight'] == pytest.approx(
        1e-3 * 0.5**(num_layers - 1))
    assert (lr['backbone.stages.0.0.ffn.fc1.weight'] <
            lr['backbone.stages.2.0.ffn.fc1.weight'] < lr['head.fc.weight'])
