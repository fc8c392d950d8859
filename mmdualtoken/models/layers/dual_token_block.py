from typing import Tuple

import torch
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor, nn

from .conv_encoder import ConvEncoder
from .feed_forward import BiAttentionFFN, TokenMixingMLP
from .position_aware_token import PositionAwareTokenModule


class DualTokenBlock(BaseModule):
    """The Dual Token block of DualToken-ViT (arXiv 2309.12424, Fig. 2).

    ``X_local = ConvEncoder(X)``; ``X_global, G = PTM(X_local, G)``;
    ``X = X_local + X_global``; then the FFN with bi-dimensional attention.
    With ``token_mixing=False`` the FFN runs on the global and image tokens
    concatenated along the token axis (as LightViT does), so the global
    tokens get the channel MLP; with ``token_mixing=True`` (the "(mix)"
    variants) the global tokens get a token-mixing MLP instead and the FFN
    sees the image tokens only.

    Args:
        embed_dims (int): Number of channels C.
        num_heads (int): Attention heads of the position-aware token module.
        ffn_ratio (float): Hidden width of the FFN relative to C.
        downsample_steps (int): 2x reductions from this stage's stride to the
            global-token stride.
        num_global_tokens (int): Number of global tokens (gh * gw).
        token_mixing (bool): Use the token-mixing MLP on the global tokens.
        token_mlp_ratio (float): Hidden width of the token-mixing MLP relative
            to ``num_global_tokens``.
        conv_mlp_ratio (float): MLP ratio of the Conv Encoder.
        fusion_weight_init (float): Initial weights of the weighted sum.
        drop_path (float): Stochastic depth rate of the three residuals.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 ffn_ratio: float,
                 downsample_steps: int,
                 num_global_tokens: int,
                 token_mixing: bool = False,
                 token_mlp_ratio: float = 4.,
                 conv_mlp_ratio: float = 4.,
                 fusion_weight_init: float = 0.5,
                 drop_path: float = 0.,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.conv_encoder = ConvEncoder(
            embed_dims, mlp_ratio=conv_mlp_ratio, drop_path=drop_path)
        self.token_module = PositionAwareTokenModule(
            embed_dims,
            num_heads,
            downsample_steps,
            fusion_weight_init=fusion_weight_init)
        self.ffn_norm = nn.LayerNorm(embed_dims)
        self.ffn = BiAttentionFFN(embed_dims, ffn_ratio)
        self.token_mixing = token_mixing
        if token_mixing:
            self.token_mlp_norm = nn.LayerNorm(embed_dims)
            self.token_mlp = TokenMixingMLP(num_global_tokens, token_mlp_ratio)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """x: (B, H, W, C) image tokens; tokens: (B, gh, gw, C) global ones."""
        x_local = self.conv_encoder(x)
        x_global, tokens = self.token_module(x_local, tokens)
        x = x_local + self.drop_path(x_global)

        batch, height, width, channels = x.shape
        grid_size = tokens.shape[1:3]
        x = x.flatten(1, 2)
        tokens = tokens.flatten(1, 2)
        if self.token_mixing:
            x = x + self.drop_path(self.ffn(self.ffn_norm(x)))
            tokens = tokens + self.drop_path(
                self.token_mlp(self.token_mlp_norm(tokens)))
        else:
            # The FFN sees [G; X] together: (B, gh * gw + H * W, C).
            joint = torch.cat([tokens, x], dim=1)
            joint = joint + self.drop_path(self.ffn(self.ffn_norm(joint)))
            tokens, x = joint.split([tokens.shape[1], x.shape[1]], dim=1)
        return (x.reshape(batch, height, width, channels),
                tokens.reshape(batch, *grid_size, channels))
