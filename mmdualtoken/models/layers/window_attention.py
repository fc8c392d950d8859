from typing import Optional

import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdualtoken.errors import ConfigError
from .attention import multi_head_attention
from .norms import build_token_norm, fold_norm


class WindowAttentionEncoder(BaseModule):
    """Local branch alternative: self-attention inside non-overlapping
    windows, as LightViT's local attention.

    LayerNorm, multi-head self-attention within each ``window_size`` x
    ``window_size`` window, a projection and the residual. Maps whose size
    is not a multiple of the window are padded at the bottom / right; the
    padded positions are masked out of every window's keys. The paper's
    ablation (``local_branch='window_attention'``) found it 0.8 % top-1
    worse than the Conv Encoder.

    Args:
        embed_dims (int): Number of channels C.
        num_heads (int): Attention heads; must divide C.
        window_size (int): Side of the square windows. Defaults to 7.
        drop_path (float): Stochastic depth rate of the residual.
        norm_cfg (dict, optional): The norm (:func:`build_token_norm`).
            Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 window_size: int = 7,
                 drop_path: float = 0.,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads != 0:
            raise ConfigError(
                f'embed_dims ({embed_dims}) must be divisible by '
                f'num_heads ({num_heads}); change the arch.')
        self.num_heads = num_heads
        self.window_size = window_size
        self.norm = build_token_norm(norm_cfg, embed_dims)
        self.qkv = nn.Linear(embed_dims, embed_dims * 3)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.drop_path = DropPath(drop_path) if drop_path else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, H, W, C) -> (B, H, W, C)."""
        batch, height, width, channels = x.shape
        size = self.window_size
        pad_h, pad_w = -height % size, -width % size
        windows = F.pad(self.norm(x), (0, 0, 0, pad_w, 0, pad_h))
        rows, cols = (height + pad_h) // size, (width + pad_w) // size
        # (B, H', W', C) -> (B * rows * cols, size * size, C)
        windows = windows.view(batch, rows, size, cols, size, channels)
        windows = windows.transpose(2, 3).reshape(-1, size * size, channels)
        mask = None
        if pad_h or pad_w:
            valid = x.new_ones(1, height, width, 1)
            valid = F.pad(valid, (0, 0, 0, pad_w, 0, pad_h))
            valid = valid.view(1, rows, size, cols, size).transpose(2, 3)
            # (rows * cols, 1, 1, size * size): keys a query may attend to,
            # broadcast over the batch and the heads.
            mask = valid.reshape(rows * cols, 1, 1, size * size).bool()
            mask = mask.repeat(batch, 1, 1, 1)
        query, key, value = self.qkv(windows).chunk(3, dim=-1)
        out = self.proj(
            multi_head_attention(query, key, value, self.num_heads, mask))
        # (B * rows * cols, size * size, C) -> (B, H, W, C)
        out = out.view(batch, rows, cols, size, size, channels)
        out = out.transpose(2, 3).reshape(batch, rows * size, cols * size,
                                          channels)
        return x + self.drop_path(out[:, :height, :width])

    def switch_to_deploy(self) -> None:
        """Folds a BatchNorm into the query, key and value projection
        (:func:`fold_norm`): the padded positions it then no longer zeroes
        are masked keys and cropped queries."""
        self.norm = fold_norm(self.norm, self.qkv)
