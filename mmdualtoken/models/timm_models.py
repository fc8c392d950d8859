"""DualToken-ViT in timm's model registry (optional: needs ``timm``).

Importing this module registers ``dualtoken_vit_t``, ``dualtoken_vit_s``,
``dualtoken_vit_t_mix`` and ``dualtoken_vit_s_mix``, so that
``timm.create_model``, timm's ``benchmark.py`` / ``train.py`` and
mmpretrain's ``TIMMBackbone`` build them::

    import timm
    import mmdualtoken.models.timm_models  # noqa: F401  (registers them)
    model = timm.create_model('dualtoken_vit_s', num_classes=10)
    features = timm.create_model('dualtoken_vit_s', features_only=True)

The model is :class:`~mmdualtoken.models.DualTokenViT` itself (the same
parameter names) with LightViT's classifier head on top, as our mmpretrain
classifier: ``neck`` (per-token Linear to 1280 + LayerNorm + GELU, mean over
tokens) and ``head.fc``. A checkpoint of our mmpretrain classifier loads
as timm's pretrained weights (:func:`checkpoint_filter_fn`, which only
drops the ``backbone.`` prefix)::

    model = timm.create_model(
        'dualtoken_vit_s', pretrained=True,
        pretrained_cfg_overlay=dict(file='epoch_300.pth'))

``features_only=True`` gives the stage maps (before any norm) at strides
8, 16 and 32 (``out_indices``), at any size of at least 32 px. No
pretrained weights are published yet.
"""
from typing import List, Optional, Tuple, Union

import torch
from mmengine.model.weight_init import constant_init, trunc_normal_init
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from timm.models import (build_model_with_cfg, generate_default_cfgs,
                         register_model)
from torch import Tensor, nn

from .backbones import DualTokenViT
from .layers.attention import to_channels_first
from .necks import TokenProjectionNeck

__all__ = ['TimmDualTokenViT', 'checkpoint_filter_fn']


class _ClassifierHead(nn.Module):
    """Dropout and the linear classifier (``fc``), as mmpretrain's
    ``LinearClsHead`` names it."""

    def __init__(self, in_features: int, num_classes: int, drop_rate: float):
        super().__init__()
        self.drop = nn.Dropout(drop_rate)
        self.fc = (
            nn.Linear(in_features, num_classes)
            if num_classes > 0 else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.drop(x))


class TimmDualTokenViT(DualTokenViT):
    """:class:`DualTokenViT` with LightViT's classifier, under timm's model
    contract (``forward_features``, ``forward_head``, ``reset_classifier``,
    ``forward_intermediates``, ``feature_info``, ``no_weight_decay``,
    ``group_matcher``, ``set_grad_checkpointing``).

    Args:
        arch (str | dict): As :class:`DualTokenViT` (``'t'``, ``'s'``,
            ``'t-mix'``, ``'s-mix'``).
        num_classes (int): Classes of the classifier; 0 for none (the pooled
            features). Defaults to 1000.
        in_chans (int): Input channels. Defaults to 3.
        head_width (int): Width of the per-token projection. Defaults to
            1280, LightViT's.
        drop_rate (float): Dropout before the classifier. Defaults to 0.
        global_pool (str): ``'avg'``: LightViT's mean over the projected
            tokens, the only pooling. Defaults to ``'avg'``.
        **kwargs: The other arguments of :class:`DualTokenViT` (e.g.
            ``drop_path_rate``).
    """

    def __init__(self,
                 arch: Union[str, dict] = 's',
                 num_classes: int = 1000,
                 in_chans: int = 3,
                 head_width: int = 1280,
                 drop_rate: float = 0.,
                 global_pool: str = 'avg',
                 **kwargs):
        if global_pool not in ('avg', ''):
            raise ValueError(
                f"global_pool must be 'avg' (LightViT's mean over "
                f'projected tokens), got {global_pool!r}.')
        super().__init__(
            arch=arch, in_channels=in_chans, out_indices=-1, **kwargs)
        self.num_classes = num_classes
        self.num_features = self.embed_dims[-1]
        self.head_hidden_size = head_width
        self.drop_rate = drop_rate
        self.neck = TokenProjectionNeck(self.num_features, head_width)
        self.head = _ClassifierHead(head_width, num_classes, drop_rate)
        self.feature_info = [
            dict(num_chs=dims, reduction=stride, module=f'stages.{i}')
            for i, (dims,
                    stride) in enumerate(zip(self.embed_dims, self.strides))
        ]
        # The init_cfg of our mmpretrain classifier, applied now (timm
        # models are ready once built) and without mmengine's per-weight log.
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_init(module, std=.02, bias=0.)
            elif isinstance(module, nn.LayerNorm):
                constant_init(module, 1., bias=0.)

    @torch.jit.ignore
    def no_weight_decay(self) -> set:
        # Norms and biases (one-dimensional) are left out by timm itself.
        return {'global_tokens'}

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict:
        """Parameter groups by depth, for layer-wise lr decay: the stem and
        the global tokens first, then the blocks (each merge patch after
        the stage before it), then the norm and the head."""
        return dict(
            stem=r'^stem|^global_tokens',
            blocks=r'^stages\.(\d+)' if coarse else [
                (r'^stages\.(\d+)\.(\d+)', None),
                (r'^merge_patches\.(\d+)', (99999, )),
                (r'^norm2', (99999, )),
            ])

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.with_cp = enable

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.head.fc

    def reset_classifier(self, num_classes: int, global_pool=None) -> None:
        """A new classifier of ``num_classes`` (0: none); the pooling is
        LightViT's mean over projected tokens (``global_pool`` is not
        used)."""
        self.num_classes = num_classes
        self.head = _ClassifierHead(self.head_hidden_size, num_classes,
                                    self.drop_rate)

    def forward_features(self, x: Tensor) -> Tensor:
        """x: (B, 3, H, W) -> the normed last map, (B, C, H / 32, W / 32)."""
        return to_channels_first(self.norm2(self.stage_outputs(x)[-1]))

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        pooled = self.neck((x, ))[0]  # (B, head_width)
        return pooled if pre_logits else self.head(pooled)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
        self,
        x: Tensor,
        indices: Optional[Union[int, List[int]]] = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = 'NCHW',
        intermediates_only: bool = False,
    ) -> Union[List[Tensor], Tuple[Tensor, List[Tensor]]]:
        """The stage maps of ``indices`` (the last n for an int), (B, C_i,
        H_i, W_i) before any norm (``norm``: the last one normed); with
        ``intermediates_only=False`` also the normed last map."""
        if output_fmt not in ('NCHW', 'NHWC'):
            raise ValueError(f"output_fmt must be 'NCHW' or 'NHWC', got "
                             f'{output_fmt!r}.')
        take, last = _take_indices(len(self.stages), indices)
        outs = self.stage_outputs(x,
                                  last if stop_early else len(self.stages) - 1)
        if norm and hasattr(self, 'norm2'):
            outs[-1] = self.norm2(outs[-1])
        fmt = (lambda t: t) if output_fmt == 'NHWC' else to_channels_first
        intermediates = [fmt(outs[i]) for i in take]
        if intermediates_only:
            return intermediates
        final = outs[-1] if norm else self.norm2(outs[-1])
        return to_channels_first(final), intermediates

    def prune_intermediate_layers(self,
                                  indices: Union[int, List[int]] = 1,
                                  prune_norm: bool = False,
                                  prune_head: bool = True) -> List[int]:
        """Drops the stages after the last of ``indices`` (and the norm and
        the head); returns the indices taken."""
        take, last = _take_indices(len(self.stages), indices)
        self.stages = self.stages[:last + 1]
        self.merge_patches = self.merge_patches[:last]
        if prune_norm or last < len(self.embed_dims) - 1:
            self.norm2 = nn.Identity()
        if prune_head:
            self.neck = nn.Identity()
            self.reset_classifier(0)
        return take


def _take_indices(num_stages: int,
                  indices: Optional[Union[int, List[int]]]) -> tuple:
    """timm's ``forward_intermediates`` indices: None for every stage, an
    int n for the last n, or a list (negatives count from the end); returns
    them and the last one."""
    if indices is None:
        indices = num_stages
    if isinstance(indices, int):
        if not 0 < indices <= num_stages:
            raise ValueError(f'indices must be 1 to {num_stages} stages, got '
                             f'{indices}.')
        take = list(range(num_stages - indices, num_stages))
    else:
        take = [i % num_stages for i in indices]
        if any(not -num_stages <= i < num_stages for i in indices):
            raise ValueError(f'indices must lie in [-{num_stages}, '
                             f'{num_stages - 1}], got {indices}.')
    return take, max(take)


def checkpoint_filter_fn(state_dict: dict,
                         model: Optional[nn.Module] = None) -> dict:
    """timm's ``pretrained_filter_fn``: the weights of our mmpretrain
    classifier (its checkpoint's ``state_dict``, which timm's loader takes
    out of the file) as :class:`TimmDualTokenViT` names them. The
    ``backbone.`` prefix goes; ``neck.*`` and ``head.fc.*`` stay, so
    ``pretrained=True`` with ``pretrained_cfg_overlay=dict(file=...)``
    loads an ``epoch_300.pth`` of ours (timm drops the classifier itself
    when ``num_classes`` differs)."""
    return {
        key[len('backbone.'):] if key.startswith('backbone.') else key: value
        for key, value in state_dict.items()
    }


def _cfg(**kwargs) -> dict:
    return dict(
        url='',
        num_classes=1000,
        input_size=(3, 224, 224),
        pool_size=(7, 7),
        crop_pct=0.875,  # resize 256, center crop 224 (LightViT's)
        interpolation='bicubic',
        mean=IMAGENET_DEFAULT_MEAN,
        std=IMAGENET_DEFAULT_STD,
        first_conv='stem.convs.0.0',
        classifier='head.fc',
        license='apache-2.0',
        **kwargs)


default_cfgs = generate_default_cfgs(
    {f'dualtoken_vit_{name}': _cfg()
     for name in ('t', 's', 't_mix', 's_mix')})


def _create(variant: str, arch: str, pretrained: bool,
            **kwargs) -> TimmDualTokenViT:
    return build_model_with_cfg(
        TimmDualTokenViT,
        variant,
        pretrained,
        arch=arch,
        pretrained_filter_fn=checkpoint_filter_fn,
        feature_cfg=dict(feature_cls='getter', out_indices=(0, 1, 2)),
        **kwargs)


@register_model
def dualtoken_vit_t(pretrained: bool = False, **kwargs) -> TimmDualTokenViT:
    """DualToken-ViT-T (0.5 G FLOPs at 224x224)."""
    return _create('dualtoken_vit_t', 't', pretrained, **kwargs)


@register_model
def dualtoken_vit_s(pretrained: bool = False, **kwargs) -> TimmDualTokenViT:
    """DualToken-ViT-S (1.0 G FLOPs at 224x224)."""
    return _create('dualtoken_vit_s', 's', pretrained, **kwargs)


@register_model
def dualtoken_vit_t_mix(pretrained: bool = False,
                        **kwargs) -> TimmDualTokenViT:
    """DualToken-ViT-T (mix): token-mixing MLP on the global tokens."""
    return _create('dualtoken_vit_t_mix', 't-mix', pretrained, **kwargs)


@register_model
def dualtoken_vit_s_mix(pretrained: bool = False,
                        **kwargs) -> TimmDualTokenViT:
    """DualToken-ViT-S (mix): token-mixing MLP on the global tokens."""
    return _create('dualtoken_vit_s_mix', 's-mix', pretrained, **kwargs)
