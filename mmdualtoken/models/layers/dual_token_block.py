from typing import Optional, Tuple

import torch
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdualtoken.errors import ConfigError
from .conv_encoder import ConvEncoder
from .feed_forward import BiAttentionFFN, TokenMixingMLP
from .norms import build_token_norm, fold_norm
from .position_aware_token import (GlobalTokenAttention,
                                   PositionAwareTokenModule)
from .window_attention import WindowAttentionEncoder

LOCAL_BRANCHES = ('conv', 'window_attention')
GLOBAL_TOKEN_FUSIONS = ('position_aware', 'attention')


class DualTokenBlock(BaseModule):
    """The Dual Token block of DualToken-ViT (arXiv 2309.12424, Fig. 2).

    ``X_local = ConvEncoder(X)``; ``X_global, G = PTM(X_local, G)``;
    ``X = X_local + X_global``; then the FFN with bi-dimensional attention.
    With ``token_mixing=False`` the FFN runs on the global and image tokens
    concatenated along the token axis (as LightViT does), so the global
    tokens get the channel MLP; with ``token_mixing=True`` (the "(mix)"
    variants) the global tokens get a token-mixing MLP instead and the FFN
    sees the image tokens only.

    The paper's ablations are switches of the same block: ``local_branch``
    (Conv Encoder or 7x7 window self-attention), ``global_token_fusion``
    (position-aware weighted sum or "normal" tokens fused by attention) and
    ``downsample`` (step-wise or one-step).

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
        local_branch (str): ``'conv'`` (:class:`ConvEncoder`) or
            ``'window_attention'`` (:class:`WindowAttentionEncoder`).
        global_token_fusion (str): ``'position_aware'``
            (:class:`PositionAwareTokenModule`) or ``'attention'``
            (:class:`GlobalTokenAttention`).
        downsample (str): ``'stepwise'`` or ``'one_step'``.
        step_conv (str): The convolution of each downsampling step.
        window_size (int): Window of ``local_branch='window_attention'``.
        drop_path (float): Stochastic depth rate of the three residuals.
        act_cfg (dict, optional): Activation of all layers; GELU if None.
        norm_cfg (dict, optional): Every norm of the block
            (:func:`build_token_norm`); LayerNorm, the paper's, if None.
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
                 local_branch: str = 'conv',
                 global_token_fusion: str = 'position_aware',
                 downsample: str = 'stepwise',
                 step_conv: str = 'pointwise',
                 window_size: int = 7,
                 drop_path: float = 0.,
                 act_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if local_branch not in LOCAL_BRANCHES:
            raise ConfigError(f'local_branch must be one of {LOCAL_BRANCHES}, '
                              f'got {local_branch!r}.')
        if global_token_fusion not in GLOBAL_TOKEN_FUSIONS:
            raise ConfigError(f'global_token_fusion must be one of '
                              f'{GLOBAL_TOKEN_FUSIONS}, got '
                              f'{global_token_fusion!r}.')
        if local_branch == 'conv':
            self.local_encoder = ConvEncoder(
                embed_dims,
                mlp_ratio=conv_mlp_ratio,
                drop_path=drop_path,
                act_cfg=act_cfg,
                norm_cfg=norm_cfg)
        else:
            self.local_encoder = WindowAttentionEncoder(
                embed_dims,
                num_heads,
                window_size,
                drop_path=drop_path,
                norm_cfg=norm_cfg)
        if global_token_fusion == 'position_aware':
            self.token_module = PositionAwareTokenModule(
                embed_dims,
                num_heads,
                downsample_steps,
                downsample=downsample,
                step_conv=step_conv,
                fusion_weight_init=fusion_weight_init,
                act_cfg=act_cfg,
                norm_cfg=norm_cfg)
        else:
            self.token_module = GlobalTokenAttention(
                embed_dims, num_heads, norm_cfg=norm_cfg)
        self.ffn_norm = build_token_norm(norm_cfg, embed_dims)
        self.ffn = BiAttentionFFN(
            embed_dims, ffn_ratio, act_cfg=act_cfg, norm_cfg=norm_cfg)
        self.token_mixing = token_mixing
        if token_mixing:
            self.token_mlp_norm = build_token_norm(norm_cfg, embed_dims)
            self.token_mlp = TokenMixingMLP(
                num_global_tokens, token_mlp_ratio, act_cfg=act_cfg)
        self.drop_path = DropPath(
            drop_path) if drop_path > 0 else nn.Identity()

    def forward(self,
                x: Tensor,
                tokens: Tensor,
                need_tokens: bool = True) -> Tuple[Tensor, Tensor]:
        """x: (B, H, W, C) image tokens; tokens: (B, gh, gw, C) global ones.

        With ``need_tokens=False`` (the last block of a backbone) the
        token-mixing MLP, whose output nothing reads, is not computed and the
        returned tokens are those before it. The joint FFN of the other
        variants still runs on the tokens: its bi-dimensional attention
        averages over them.
        """
        x_local = self.local_encoder(x)
        x_global, tokens = self.token_module(x_local, tokens)
        x = x_local + self.drop_path(x_global)

        batch, height, width, channels = x.shape
        grid_size = tokens.shape[1:3]
        x = x.flatten(1, 2)
        tokens = tokens.flatten(1, 2)
        if self.token_mixing:
            x = x + self.drop_path(self.ffn(self.ffn_norm(x)))
            if need_tokens:
                tokens = tokens + self.drop_path(
                    self.token_mlp(self.token_mlp_norm(tokens)))
        else:
            # The FFN sees [G; X] together: (B, gh * gw + H * W, C).
            joint = torch.cat([tokens, x], dim=1)
            joint = joint + self.drop_path(self.ffn(self.ffn_norm(joint)))
            tokens, x = joint.split([tokens.shape[1], x.shape[1]], dim=1)
        return (x.reshape(batch, height, width,
                          channels), tokens.reshape(batch, *grid_size,
                                                    channels))

    def switch_to_deploy(self) -> None:
        """Folds a BatchNorm into the FFN's first layer (:func:`fold_norm`).
        The token-mixing MLP's norm stays: its layers mix tokens, not
        channels, so a per-channel scale does not fold into them."""
        self.ffn_norm = fold_norm(self.ffn_norm, self.ffn.fc1)
