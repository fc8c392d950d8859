"""The norms of the tokens, and their folding for deployment.

The paper's blocks normalise tokens with LayerNorm, whose statistics are
those of each token: a reduction in every norm of every forward. With
``norm_cfg=dict(type='BN')`` (or ``'SyncBN'``) the same norms are
BatchNorms over the channels, whose statistics are frozen after training,
so :func:`fold_norm` can fold each one into the linear layers that read
its output and the deployed model computes no norm at all. This changes
the model (another design, trained as such), not an optimisation of the
paper's.
"""
from typing import Optional

import torch
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdualtoken.errors import ConfigError


class TokenBatchNorm(nn.Module):
    """A BatchNorm of (..., C) tokens: one mean and variance per channel,
    over every token of the batch.

    Args:
        norm (nn.Module): A BatchNorm of C channels (``BN``, ``SyncBN``),
            applied to the tokens as a (tokens, C, 1, 1) map.
    """

    def __init__(self, norm: _BatchNorm):
        super().__init__()
        self.bn = norm

    def forward(self, x: Tensor) -> Tensor:
        """x: (..., C) -> (..., C)."""
        return self.bn(x.reshape(-1, x.shape[-1], 1, 1)).view(x.shape)


def build_token_norm(cfg: Optional[dict], dims: int) -> nn.Module:
    """Builds the norm of (..., C) tokens from a config.

    Args:
        cfg (dict, optional): ``dict(type='LN')`` (LayerNorm, the default)
            or a BatchNorm type of mmcv (``'BN'``, ``'SyncBN'``), with its
            other arguments.
        dims (int): The number of channels C.

    Returns:
        nn.Module: ``nn.LayerNorm`` or :class:`TokenBatchNorm`.
    """
    cfg = dict(cfg or dict(type='LN'))
    if cfg.get('type') == 'LN':
        cfg.pop('type')
        return nn.LayerNorm(dims, **cfg)
    try:
        norm = build_norm_layer(cfg, dims)[1]
    except (KeyError, TypeError, AssertionError) as error:
        # mmcv asserts what GroupNorm needs (num_groups) without a message.
        reason = str(error) or 'mmcv cannot build it'
        raise ConfigError(f'block_norm_cfg={cfg!r}: {reason}. The blocks take '
                          f"dict(type='LN') (the paper's) or dict(type='BN') "
                          f"/ dict(type='SyncBN').") from None
    if not isinstance(norm, _BatchNorm):
        raise ConfigError(f'block_norm_cfg={cfg!r} is neither LayerNorm nor '
                          f"a BatchNorm: use dict(type='LN') (the paper's) "
                          f"or dict(type='BN') / dict(type='SyncBN').")
    return TokenBatchNorm(norm)


@torch.no_grad()
def fold_norm(norm: nn.Module, *consumers: nn.Linear) -> nn.Module:
    """Folds a :class:`TokenBatchNorm` into the linear layers that read its
    output, with its running statistics.

    ``linear(scale * x + shift)`` equals ``linear'(x)`` with the weight's
    columns multiplied by ``scale`` and ``weight @ shift`` added to the
    bias (created where the layer had none).

    Args:
        norm (nn.Module): The norm; anything but a :class:`TokenBatchNorm`
            (a LayerNorm, whose statistics are each token's, or an
            already folded ``nn.Identity``) is returned as it is.
        *consumers (nn.Linear): Every layer that reads the norm's output
            alone, directly or after a linear map such as a mean over
            tokens.

    Returns:
        nn.Module: What replaces the norm: ``nn.Identity()`` when folded.
    """
    if not isinstance(norm, TokenBatchNorm):
        return norm
    bn = norm.bn
    if bn.training:
        raise ConfigError(
            'switch_to_deploy() folds the running statistics of the '
            'BatchNorms, which training mode does not use: call '
            'model.eval() first.')
    if bn.running_var is None:
        raise ConfigError('A BatchNorm without running statistics '
                          '(track_running_stats=False) cannot be folded.')
    scale = (bn.running_var + bn.eps).rsqrt()
    shift = -bn.running_mean * scale
    if bn.affine:
        scale = scale * bn.weight
        shift = shift * bn.weight + bn.bias
    for linear in consumers:
        bias = linear.weight @ shift
        if linear.bias is None:
            linear.bias = nn.Parameter(bias)
        else:
            linear.bias.add_(bias)
        linear.weight.mul_(scale)
    return nn.Identity()
