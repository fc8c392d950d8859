from typing import Optional

from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from .execution import apply_by_rows, linear_of_one_token
from .norms import build_token_norm, fold_norm


class BiDimensionalAttention(BaseModule):
    """LightViT's bi-dimensional (channel and spatial) attention gate.

    A channel gate from the mean token and a spatial gate from each token
    together with the mean token, multiplied and applied to the input
    (arXiv 2207.05557, Sec. 3.3).

    Args:
        embed_dims (int): Number of channels C.
        reduce_ratio (float): Width of the reduced features relative to C.
            Defaults to 0.25 as in LightViT.
        act_cfg (dict): Activation of the reduced features.
        norm_cfg (dict, optional): The norm (:func:`build_token_norm`).
            Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 reduce_ratio: float = 0.25,
                 act_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        reduced_dims = int(embed_dims * reduce_ratio)
        self.norm = build_token_norm(norm_cfg, embed_dims)
        self.global_reduce = nn.Linear(embed_dims, reduced_dims)
        self.local_reduce = nn.Linear(embed_dims, reduced_dims)
        self.act = build_activation_layer(act_cfg or dict(type='GELU'))
        self.channel_select = nn.Linear(reduced_dims, embed_dims)
        self.spatial_select = nn.Linear(reduced_dims * 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        normed = self.norm(x)
        # The channel gate's two layers act on one token per image.
        global_feat = self.act(
            linear_of_one_token(self.global_reduce,
                                normed.mean(1, keepdim=True)))
        channel_gate = linear_of_one_token(self.channel_select,
                                           global_feat).sigmoid()
        # spatial_select([local; global]) with its weight split in two: the
        # global half is one value per image, so the (B, N, 2 * C / 4)
        # concatenation is never built. Each half has one output, so it is
        # a weighted sum over channels that fuses with the GELU before it.
        local_weight, global_weight = self.spatial_select.weight.chunk(2, 1)
        global_logit = ((global_feat * global_weight).sum(-1, keepdim=True) +
                        self.spatial_select.bias)  # (B, 1, 1)
        local_feat = self.act(self.local_reduce(normed))
        spatial_gate = ((local_feat * local_weight).sum(-1, keepdim=True) +
                        global_logit).sigmoid()  # (B, N, 1)
        return x * channel_gate * spatial_gate

    def switch_to_deploy(self) -> None:
        """Folds a BatchNorm into both reductions (:func:`fold_norm`; the
        mean before the global one is linear)."""
        self.norm = fold_norm(self.norm, self.global_reduce, self.local_reduce)


class BiAttentionFFN(BaseModule):
    """Channel MLP followed by bi-dimensional attention, as in LightViT.

    Args:
        embed_dims (int): Number of channels C.
        ffn_ratio (float): Hidden width relative to C.
        act_cfg (dict): Activation. Defaults to GELU.
        norm_cfg (dict, optional): The norm of the bi-dimensional attention
            (:func:`build_token_norm`). Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 ffn_ratio: float,
                 act_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        hidden_dims = int(embed_dims * ffn_ratio)
        self.hidden_dims = hidden_dims
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = build_activation_layer(act_cfg or dict(type='GELU'))
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.bi_attention = BiDimensionalAttention(
            embed_dims, act_cfg=act_cfg, norm_cfg=norm_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        mlp = apply_by_rows(lambda rows: self.fc2(self.act(self.fc1(rows))), x,
                            self.hidden_dims)
        return self.bi_attention(mlp)


class TokenMixingMLP(BaseModule):
    """MLP-Mixer's token-mixing MLP over a fixed set of tokens.

    Used on the global tokens of the "(mix)" variants instead of the channel
    MLP: it mixes information across the grid cells, each channel alike.

    Args:
        num_tokens (int): Number of tokens N mixed (49 for a 7x7 grid).
        hidden_ratio (float): Hidden width relative to N.
        act_cfg (dict): Activation. Defaults to GELU.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 num_tokens: int,
                 hidden_ratio: float,
                 act_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        hidden_tokens = int(num_tokens * hidden_ratio)
        self.fc1 = nn.Linear(num_tokens, hidden_tokens)
        self.act = build_activation_layer(act_cfg or dict(type='GELU'))
        self.fc2 = nn.Linear(hidden_tokens, num_tokens)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        # Mix along the token axis: (B, N, C) -> (B, C, N) and back.
        return self.fc2(self.act(self.fc1(x.transpose(1, 2)))).transpose(1, 2)
