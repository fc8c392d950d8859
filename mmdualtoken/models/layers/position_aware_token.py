from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdualtoken.errors import ConfigError
from .attention import (multi_head_attention, resize_token_grid,
                        to_channels_first, to_channels_last)
from .norms import build_token_norm, fold_norm

STEP_CONVS = ('pointwise', 'depthwise', 'full')


def _reduction_step(embed_dims: int, step_conv: str) -> nn.Module:
    """One 2x reduction (ceil, so odd sizes lose no row)."""
    if step_conv == 'pointwise':
        # A 1x1 conv mixes channels at the finer resolution, then 2x2
        # average pooling halves the map.
        return nn.Sequential(
            nn.Conv2d(embed_dims, embed_dims, 1),
            nn.AvgPool2d(2, ceil_mode=True))
    groups = embed_dims if step_conv == 'depthwise' else 1
    return nn.Conv2d(
        embed_dims, embed_dims, 3, stride=2, padding=1, groups=groups)


class StepwiseDownsample(BaseModule):
    """Reduces a feature map to the global-token stride.

    ``mode='stepwise'`` (the paper's choice) halves the map ``num_steps``
    times, a light convolution extracting local information at each step
    (``step_conv``), the steps separated by the activation. ``'one_step'``
    is the paper's ablation: a single average pooling of
    ``2 ** num_steps``, found 0.2 % top-1 worse. Both end with a LayerNorm
    and give ceil(H / 2^steps) x ceil(W / 2^steps); with zero steps the
    module is the LayerNorm alone.

    ``step_conv`` readings of the "light convolution" (the paper gives only
    the cost of the steps: +0.03 G FLOPs, +0.1 M parameters on S (mix)):
    ``'pointwise'`` (1x1 conv, then 2x2 average pooling; the closest to
    those figures), ``'depthwise'`` (3x3 depthwise conv of stride 2) and
    ``'full'`` (3x3 conv of stride 2).

    Args:
        embed_dims (int): Number of channels C.
        num_steps (int): Number of 2x reductions.
        mode (str): ``'stepwise'`` or ``'one_step'``.
        step_conv (str): ``'pointwise'``, ``'depthwise'`` or ``'full'``.
        act_cfg (dict): Activation between steps. Defaults to GELU.
        norm_cfg (dict, optional): The last norm (:func:`build_token_norm`).
            Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_steps: int,
                 mode: str = 'stepwise',
                 step_conv: str = 'pointwise',
                 act_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if mode not in ('stepwise', 'one_step'):
            raise ConfigError(f"downsample must be 'stepwise' or 'one_step', "
                              f'got {mode!r}.')
        if step_conv not in STEP_CONVS:
            raise ConfigError(f'step_conv must be one of {STEP_CONVS}, got '
                              f'{step_conv!r}.')
        self.mode = mode
        self.factor = 2**num_steps
        layers = []
        if mode == 'stepwise':
            for step in range(num_steps):
                if step > 0:
                    layers.append(
                        build_activation_layer(act_cfg or dict(type='GELU')))
                layers.append(_reduction_step(embed_dims, step_conv))
        self.reduce = nn.Sequential(*layers)
        self.norm = build_token_norm(norm_cfg, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, H, W, C) -> (B, ceil(H / 2^steps), ceil(W / 2^steps), C)."""
        if len(self.reduce) > 0:
            x = to_channels_last(self.reduce(to_channels_first(x)))
        elif self.factor > 1:
            x = to_channels_last(
                F.avg_pool2d(
                    to_channels_first(x), self.factor, ceil_mode=True))
        return self.norm(x)


class GlobalBroadcast(BaseModule):
    """Shared last step of the global branches: the image tokens are the
    queries of a multi-head attention whose keys and values are the global
    tokens.

    Args:
        embed_dims (int): Number of channels C.
        num_heads (int): Attention heads; must divide C.
        norm_cfg (dict, optional): The norms of the queries and of the
            tokens (:func:`build_token_norm`). Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads != 0:
            raise ConfigError(
                f'embed_dims ({embed_dims}) must be divisible by '
                f'num_heads ({num_heads}); change the arch.')
        self.num_heads = num_heads
        self.query_norm = build_token_norm(norm_cfg, embed_dims)
        self.token_norm = build_token_norm(norm_cfg, embed_dims)
        self.broadcast_q = nn.Linear(embed_dims, embed_dims)
        self.broadcast_kv = nn.Linear(embed_dims, embed_dims * 2)
        self.broadcast_proj = nn.Linear(embed_dims, embed_dims)

    def broadcast(self, x: Tensor, tokens: Tensor) -> Tensor:
        """x: (B, N, C) image tokens, tokens: (B, M, C) -> (B, N, C)."""
        query = self.broadcast_q(self.query_norm(x))
        key, value = self.broadcast_kv(self.token_norm(tokens)).chunk(
            2, dim=-1)
        return self.broadcast_proj(
            multi_head_attention(query, key, value, self.num_heads))

    def switch_to_deploy(self) -> None:
        """Folds BatchNorms into the projections after them
        (:func:`fold_norm`)."""
        self.query_norm = fold_norm(self.query_norm, self.broadcast_q)
        self.token_norm = fold_norm(self.token_norm, self.broadcast_kv)


class PositionAwareTokenModule(GlobalBroadcast):
    """Global branch of the Dual Token block.

    Four steps (arXiv 2309.12424, Sec. 3.2):

    1. step-wise downsampling of the local features to the global-token
       stride;
    2. global aggregation: multi-head self-attention over the downsampled
       map;
    3. enrichment: a weighted sum, cell by cell, of the aggregated map and
       the position-aware global tokens, with learnable per-channel weights;
    4. global broadcast: the image tokens attend to the enriched tokens.

    The global tokens live on a fixed grid (7x7 by default). When the
    downsampled map has another size (inputs other than 224x224, or another
    ``global_token_grid``), the tokens are bilinearly resized to the map for
    steps 3 and 4, so each token keeps its relative position in the image,
    and the enriched tokens are resized back to the fixed grid for the next
    block.

    Args:
        embed_dims (int): Number of channels C.
        num_heads (int): Attention heads of both attentions.
        downsample_steps (int): Number of 2x reductions in step 1.
        downsample (str): ``'stepwise'`` or ``'one_step'``
            (:class:`StepwiseDownsample`).
        step_conv (str): The convolution of each step
            (:class:`StepwiseDownsample`).
        fusion_weight_init (float): Initial value of both per-channel weights
            of the weighted sum. Defaults to 0.5 (an average).
        act_cfg (dict): Activation of the downsampling.
        norm_cfg (dict, optional): Its norms (:func:`build_token_norm`).
            Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 downsample_steps: int,
                 downsample: str = 'stepwise',
                 step_conv: str = 'pointwise',
                 fusion_weight_init: float = 0.5,
                 act_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(
            embed_dims, num_heads, norm_cfg=norm_cfg, init_cfg=init_cfg)
        self.downsample = StepwiseDownsample(
            embed_dims,
            downsample_steps,
            downsample,
            step_conv,
            act_cfg,
            norm_cfg=norm_cfg)
        self.aggregate_qkv = nn.Linear(embed_dims, embed_dims * 3)
        self.aggregate_proj = nn.Linear(embed_dims, embed_dims)
        # Row 0 weighs the aggregated map, row 1 the global tokens.
        self.fusion_weights = nn.Parameter(
            torch.full((2, embed_dims), float(fusion_weight_init)))

    def forward(self, x: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """Computes the global features and the enriched global tokens.

        Args:
            x (Tensor): Local image tokens, (B, H, W, C).
            tokens (Tensor): Global tokens on their grid, (B, gh, gw, C).

        Returns:
            tuple: X_global (B, H, W, C) and the enriched global tokens
            (B, gh, gw, C).
        """
        pooled = self.downsample(x)
        pooled_size = pooled.shape[1:3]
        pooled = pooled.flatten(1, 2)  # (B, h * w, C)
        query, key, value = self.aggregate_qkv(pooled).chunk(3, dim=-1)
        aggregated = self.aggregate_proj(
            multi_head_attention(query, key, value, self.num_heads))

        grid_tokens = resize_token_grid(tokens, pooled_size).flatten(1, 2)
        enriched = (self.fusion_weights[0] * aggregated +
                    self.fusion_weights[1] * grid_tokens)  # (B, h * w, C)
        x_global = self.broadcast(x.flatten(1, 2), enriched).view_as(x)
        enriched = enriched.unflatten(1, pooled_size)  # (B, h, w, C)
        return x_global, resize_token_grid(enriched, tokens.shape[1:3])

    def switch_to_deploy(self) -> None:
        """Folds BatchNorms into the projections after them
        (:func:`fold_norm`)."""
        super().switch_to_deploy()
        self.downsample.norm = fold_norm(self.downsample.norm,
                                         self.aggregate_qkv)


class GlobalTokenAttention(GlobalBroadcast):
    """The paper's "normal" global tokens (its Fig. 3(c)), as in LightViT.

    The global tokens gather from the image tokens by multi-head attention
    (tokens as queries, image tokens as keys and values, with a residual),
    then the image tokens attend to the updated tokens. There is no
    downsampling and no weighted sum: the tokens know no position, so their
    grid never needs resizing. The paper's ablation
    (``global_token_fusion='attention'``) found it worse than the
    position-aware module, with 1.1 M more parameters.

    Args:
        embed_dims (int): Number of channels C.
        num_heads (int): Attention heads of both attentions.
        norm_cfg (dict, optional): Its norms (:func:`build_token_norm`).
            Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(
            embed_dims, num_heads, norm_cfg=norm_cfg, init_cfg=init_cfg)
        self.gather_query_norm = build_token_norm(norm_cfg, embed_dims)
        self.gather_key_norm = build_token_norm(norm_cfg, embed_dims)
        self.gather_q = nn.Linear(embed_dims, embed_dims)
        self.gather_kv = nn.Linear(embed_dims, embed_dims * 2)
        self.gather_proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, x: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """x: (B, H, W, C), tokens: (B, gh, gw, C) -> the same shapes."""
        image = x.flatten(1, 2)
        flat_tokens = tokens.flatten(1, 2)  # (B, gh * gw, C)
        query = self.gather_q(self.gather_query_norm(flat_tokens))
        key, value = self.gather_kv(self.gather_key_norm(image)).chunk(
            2, dim=-1)
        flat_tokens = flat_tokens + self.gather_proj(
            multi_head_attention(query, key, value, self.num_heads))
        x_global = self.broadcast(image, flat_tokens).view_as(x)
        return x_global, flat_tokens.view_as(tokens)

    def switch_to_deploy(self) -> None:
        """Folds BatchNorms into the projections after them
        (:func:`fold_norm`)."""
        super().switch_to_deploy()
        self.gather_query_norm = fold_norm(self.gather_query_norm,
                                           self.gather_q)
        self.gather_key_norm = fold_norm(self.gather_key_norm, self.gather_kv)
