"""Our speed design: the blocks' norms as BatchNorms, folded into the layers
after them for inference (``block_norm_cfg``, ``switch_to_deploy``)."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdualtoken.errors import ConfigError
from mmdualtoken.models import DualTokenViT
from mmdualtoken.models.layers.norms import TokenBatchNorm

BN = dict(type='BN')
DESIGNS = {
    's': dict(arch='s'),
    't-mix': dict(arch='t-mix'),
    'normal-global-tokens': dict(arch='t', global_token_fusion='attention'),
    'window-attention': dict(arch='t', local_branch='window_attention'),
}


def batchnorm_backbone(**kwargs) -> DualTokenViT:
    """A backbone whose BatchNorms have learned statistics and affines far
    from the identity, so that a wrong fold shows."""
    torch.manual_seed(0)
    model = DualTokenViT(block_norm_cfg=BN, out_indices=(0, 1, 2), **kwargs)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 2)
                module.bias.normal_()
        model.train()
        for _ in range(2):
            model(torch.randn(4, 3, 96, 128))
    return model.eval()


def token_batchnorms(model: nn.Module) -> list:
    return [
        name for name, module in model.named_modules()
        if isinstance(module, TokenBatchNorm)
    ]


@pytest.mark.parametrize('design', DESIGNS.values(), ids=DESIGNS.keys())
def test_folded_batchnorms_give_the_same_outputs_without_norms(design):
    model = batchnorm_backbone(**design)
    params = sum(p.numel() for p in model.parameters())
    x = torch.randn(2, 3, 100, 140)
    with torch.no_grad():
        expected = model(x)
        model.switch_to_deploy()
        folded = model(x)
    for out, ref in zip(folded, expected):
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    # Only the token-mixing MLP's norms stay: their layers mix tokens.
    assert all(
        name.endswith('token_mlp_norm') for name in token_batchnorms(model))
    assert bool(token_batchnorms(model)) == design['arch'].endswith('mix')
    assert sum(p.numel() for p in model.parameters()) < params


def test_the_papers_layernorms_are_left_as_they_are():
    torch.manual_seed(0)
    model = DualTokenViT('t').eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.switch_to_deploy()
    after = model.state_dict()
    assert after.keys() == state.keys()
    assert all(torch.equal(after[k], v) for k, v in state.items())


def test_folding_in_training_mode_says_to_call_eval_first():
    model = DualTokenViT('t', block_norm_cfg=BN)
    with pytest.raises(ConfigError, match=r'model\.eval\(\)'):
        model.switch_to_deploy()
    assert token_batchnorms(model)


@pytest.mark.parametrize(
    'cfg',
    [
        dict(type='GN', num_groups=4),
        dict(type='GN'),  # mmcv asserts num_groups without a message
        dict(type='IN'),
        dict(type='NoSuchNorm'),
    ])
def test_other_norms_raise_a_clear_error(cfg):
    with pytest.raises(ConfigError, match=r"type='LN'"):
        DualTokenViT('t', block_norm_cfg=cfg)


def test_the_batchnorm_design_learns_and_its_folded_form_predicts_alike():
    # Two classes told apart by position only (a bright top or bottom
    # half): the global tokens' position awareness, learned with
    # BatchNorms, then kept by the folded model.
    torch.manual_seed(0)
    backbone = DualTokenViT('t', block_norm_cfg=BN)
    head = nn.Linear(backbone.embed_dims[-1], 2)

    def batch(size):
        labels = torch.randint(0, 2, (size, ))
        images = torch.randn(size, 3, 64, 64) * 0.5
        rows = torch.arange(64).view(1, 1, 64, 1)
        bright_top = (labels == 0).view(-1, 1, 1, 1) & (rows < 32)
        bright_bottom = (labels == 1).view(-1, 1, 1, 1) & (rows >= 32)
        return images + 2. * (bright_top | bright_bottom), labels

    def logits(images):
        return head(backbone(images)[-1].mean((2, 3)))

    optimizer = torch.optim.AdamW([*backbone.parameters(), *head.parameters()],
                                  lr=1e-3)
    for _ in range(30):
        images, labels = batch(16)
        loss = F.cross_entropy(logits(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    backbone.eval()
    images, labels = batch(64)
    with torch.no_grad():
        trained = logits(images)
        backbone.switch_to_deploy()
        folded = logits(images)
    assert (trained.argmax(1) == labels).float().mean() >= 0.95
    torch.testing.assert_close(folded, trained, rtol=1e-4, atol=1e-4)
    assert not token_batchnorms(backbone)


def test_timms_reparameterize_model_folds_ours_in_timms_registry():
    timm = pytest.importorskip('timm')
    from timm.utils.model import reparameterize_model

    import mmdualtoken.models.timm_models  # noqa: F401
    torch.manual_seed(0)
    model = timm.create_model('dualtoken_vit_t', block_norm_cfg=BN).eval()
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        expected = model(x)
        deployed = reparameterize_model(model)
        torch.testing.assert_close(deployed(x), expected)
    assert token_batchnorms(model) and not token_batchnorms(deployed)
