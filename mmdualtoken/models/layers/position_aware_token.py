from typing import Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from .attention import (multi_head_attention, resize_token_grid,
                        to_channels_first, to_channels_last)


class StepwiseDownsample(BaseModule):
    """Reduces a feature map by 2 per step, down to the global-token stride.

    Each step is a depthwise 3x3 convolution of stride 2: it halves the map
    (ceil, so odd sizes lose no row) and extracts local information from the
    3x3 neighbourhood it reduces, instead of one coarse 4x reduction that the
    paper found 0.2 % top-1 worse. Steps are separated by GELU; a LayerNorm
    ends the module. With zero steps it is the LayerNorm alone.

    Args:
        embed_dims (int): Number of channels C.
        num_steps (int): Number of 2x reductions.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self, embed_dims: int, num_steps: int, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        layers = []
        for step in range(num_steps):
            if step > 0:
                layers.append(nn.GELU())
            layers.append(
                nn.Conv2d(
                    embed_dims,
                    embed_dims,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    groups=embed_dims))
        self.reduce = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, H, W, C) -> (B, ceil(H / 2^steps), ceil(W / 2^steps), C)."""
        if len(self.reduce) > 0:
            x = to_channels_last(self.reduce(to_channels_first(x)))
        return self.norm(x)


class PositionAwareTokenModule(BaseModule):
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
    downsampled map has another size (inputs other than 224x224), the tokens
    are bilinearly resized to the map for steps 3 and 4, so each token keeps
    its relative position in the image, and the enriched tokens are resized
    back to the fixed grid for the next block.

    Args:
        embed_dims (int): Number of channels C.
        num_heads (int): Attention heads of both attentions.
        downsample_steps (int): Number of 2x reductions in step 1.
        fusion_weight_init (float): Initial value of both per-channel weights
            of the weighted sum. Defaults to 0.5 (an average).
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 downsample_steps: int,
                 fusion_weight_init: float = 0.5,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by '
                             f'num_heads ({num_heads}); change the arch.')
        self.num_heads = num_heads
        self.downsample = StepwiseDownsample(embed_dims, downsample_steps)
        self.aggregate_qkv = nn.Linear(embed_dims, embed_dims * 3)
        self.aggregate_proj = nn.Linear(embed_dims, embed_dims)
        # Row 0 weighs the aggregated map, row 1 the global tokens.
        self.fusion_weights = nn.Parameter(
            torch.full((2, embed_dims), float(fusion_weight_init)))
        self.query_norm = nn.LayerNorm(embed_dims)
        self.token_norm = nn.LayerNorm(embed_dims)
        self.broadcast_q = nn.Linear(embed_dims, embed_dims)
        self.broadcast_kv = nn.Linear(embed_dims, embed_dims * 2)
        self.broadcast_proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, x: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """Computes the global features and the enriched global tokens.

        Args:
            x (Tensor): Local image tokens, (B, H, W, C).
            tokens (Tensor): Global tokens on their grid, (B, gh, gw, C).

        Returns:
            tuple: X_global (B, H, W, C) and the enriched global tokens
            (B, gh, gw, C).
        """
        batch, height, width, channels = x.shape
        pooled = self.downsample(x)
        pooled_size = pooled.shape[1:3]
        pooled = pooled.flatten(1, 2)  # (B, h * w, C)
        query, key, value = self.aggregate_qkv(pooled).chunk(3, dim=-1)
        aggregated = self.aggregate_proj(
            multi_head_attention(query, key, value, self.num_heads))

        grid_tokens = resize_token_grid(tokens, pooled_size).flatten(1, 2)
        enriched = (self.fusion_weights[0] * aggregated +
                    self.fusion_weights[1] * grid_tokens)  # (B, h * w, C)

        query = self.broadcast_q(self.query_norm(x.flatten(1, 2)))
        key, value = self.broadcast_kv(self.token_norm(enriched)).chunk(
            2, dim=-1)
        x_global = self.broadcast_proj(
            multi_head_attention(query, key, value, self.num_heads))
        x_global = x_global.view(batch, height, width, channels)

        enriched = enriched.view(batch, *pooled_size, channels)
        return x_global, resize_token_grid(enriched, tokens.shape[1:3])
