import copy
import logging
import math
import subprocess
import sys

import pytest
import torch
from mmengine.logging import MMLogger
from torch.nn.modules.batchnorm import _BatchNorm

from mmdualtoken.models import DualTokenViT

STRIDES = (8, 16, 32)


def all_stages(arch='t', **kwargs):
    return DualTokenViT(arch=arch, out_indices=(0, 1, 2), **kwargs)


@pytest.mark.parametrize('arch', ['t', 's', 't-mix', 's-mix'])
def test_arch_zoo_output_shapes_at_224(arch):
    model = all_stages(arch).eval()
    outs = model(torch.rand(2, 3, 224, 224))
    dims = DualTokenViT.arch_zoo[arch]['embed_dims']
    assert [tuple(o.shape) for o in outs] == [(2, dims[0], 28, 28),
                                              (2, dims[1], 14, 14),
                                              (2, dims[2], 7, 7)]
    assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize('size', [(32, 32), (33, 47), (333, 501), (96, 200)])
def test_any_input_size_gives_ceil_sized_outputs(size):
    model = all_stages('t-mix').eval()
    outs = model(torch.rand(1, 3, *size))
    for out, stride in zip(outs, STRIDES):
        assert out.shape[-2:] == tuple(math.ceil(s / stride) for s in size)


def test_small_or_malformed_input_raises_a_clear_error():
    model = all_stages().eval()
    with pytest.raises(ValueError, match='at least 32'):
        model(torch.rand(1, 3, 31, 64))
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        model(torch.rand(1, 4, 64, 64))


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match='Unknown arch'):
        DualTokenViT(arch='huge')
    with pytest.raises(ValueError, match='exactly the keys'):
        DualTokenViT(arch=dict(embed_dims=[8, 16, 32]))
    with pytest.raises(ValueError, match='out_indices'):
        DualTokenViT(out_indices=(3, ))
    with pytest.raises(ValueError, match='frozen_stages'):
        DualTokenViT(frozen_stages=4)


def test_custom_arch_dict():
    arch = dict(
        embed_dims=[16, 32, 64],
        depths=[1, 1, 1],
        num_heads=[1, 2, 4],
        ffn_ratios=[2, 2, 2],
        token_mixing=True)
    outs = DualTokenViT(
        arch=arch, out_indices=(0, 1, 2))(
            torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32, 64]


def test_out_indices_negative_and_caller_list_untouched():
    requested = [-1, 0]
    model = DualTokenViT(arch='t', out_indices=requested).eval()
    assert requested == [-1, 0]
    assert model.out_indices == (0, 2)
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [48, 192]
    assert len(
        DualTokenViT(arch='t', out_indices=1)(torch.rand(1, 3, 64, 64))) == 1


def test_frozen_stages_get_no_gradient_and_stay_in_eval():
    model = all_stages(frozen_stages=1)
    model.train()
    frozen = [model.stem, model.stages[0], model.norm0]
    for module in frozen:
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    assert not model.global_tokens.requires_grad
    assert model.stages[1].training
    sum(o.sum() for o in model(torch.rand(2, 3, 64, 64))).backward()
    for module in frozen:
        assert all(p.grad is None for p in module.parameters())
    assert all(p.grad is not None for p in model.stages[1].parameters())
    assert all(p.requires_grad for p in all_stages().parameters())


def test_norm_eval_keeps_batch_norms_in_eval_mode():
    model = all_stages(norm_eval=True).train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(not m.training for m in norms)
    running_mean = norms[0].running_mean.clone()
    model(torch.rand(2, 3, 64, 64))
    assert torch.equal(norms[0].running_mean, running_mean)
    assert all(m.training for m in all_stages().train().modules()
               if isinstance(m, _BatchNorm))


def test_with_cp_gives_same_outputs_and_gradients():
    plain = all_stages().train()
    checkpointed = copy.deepcopy(plain)
    checkpointed.with_cp = True
    x = torch.rand(2, 3, 64, 96)
    outs = [model(x) for model in (plain, checkpointed)]
    for out_plain, out_cp in zip(*outs):
        torch.testing.assert_close(out_plain, out_cp)
    for model, out in zip((plain, checkpointed), outs):
        sum(o.square().sum() for o in out).backward()
    for (name, p), p_cp in zip(plain.named_parameters(),
                               checkpointed.parameters()):
        torch.testing.assert_close(p.grad, p_cp.grad, msg=name)


def test_drop_path_rate_increases_over_blocks_and_is_stochastic():
    model = all_stages(drop_path_rate=0.3)
    rates = [
        block.drop_path.drop_prob for stage in model.stages
        for block in stage[1:]
    ]
    assert rates == sorted(rates) and rates[-1] == pytest.approx(0.3)
    x = torch.rand(4, 3, 64, 64)
    model.train()
    assert not torch.equal(model(x)[-1], model(x)[-1])
    model.eval()
    assert torch.equal(model(x)[-1], model(x)[-1])


def test_global_tokens_and_fusion_weights_learn():
    model = all_stages('t')
    model(torch.rand(2, 3, 64, 64))[-1].sum().backward()
    assert model.global_tokens.grad.abs().sum() > 0
    fusion = model.stages[1][0].token_module.fusion_weights
    assert fusion.grad.abs().sum() > 0


def test_pretrained_prefix_loads_classifier_checkpoint_and_logs(tmp_path):
    source = all_stages('t')
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state.pop('backbone.norm0.weight')
    state['head.fc.weight'] = torch.zeros(4, 1280)
    ckpt = tmp_path / 'classifier.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), ckpt)

    records = []
    logger = MMLogger.get_instance('test_pretrained', log_level='INFO')
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    target = all_stages(
        't',
        init_cfg=dict(
            type='Pretrained', checkpoint=str(ckpt), prefix='backbone.'))
    target.init_weights()
    logger.removeHandler(handler)

    loaded = target.state_dict()
    for key, value in source.state_dict().items():
        if key != 'norm0.weight':
            assert torch.equal(loaded[key], value), key
    messages = '\n'.join(r.getMessage() for r in records)
    assert 'missing keys in source state_dict: norm0.weight' in messages


def test_backbone_imports_no_task_library():
    code = ('import sys, mmdualtoken.models.backbones; '
            'bad = [m for m in sys.modules if m.split(".")[0] in '
            '("mmdet", "mmseg", "mmpretrain")]; assert not bad, bad')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_pretrained_of_another_variant_or_prefix_stops_with_the_cause(
        tmp_path):
    checkpoint = tmp_path / 't_classifier.pth'
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in all_stages('t').state_dict().items()
        }), checkpoint)

    def pretrained(arch, prefix, **kwargs):
        return all_stages(
            arch,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(checkpoint), prefix=prefix),
            **kwargs)

    with pytest.raises(ValueError, match=r"width 48 \(arch 't'.*width 64"):
        pretrained('s', 'backbone.').init_weights()
    with pytest.raises(ValueError, match="no key starts with the prefix"):
        pretrained('t', 'neck.').init_weights()
    partial = pretrained('s', 'backbone.', max_pretrained_mismatch=None)
    partial.init_weights()  # deliberate partial loading: what fits
    exact = pretrained('t', 'backbone.')
    exact.init_weights()
    source = torch.load(checkpoint)['state_dict']
    assert torch.equal(exact.global_tokens, source['backbone.global_tokens'])
