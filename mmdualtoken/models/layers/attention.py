from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from .execution import antialiased_resize, same_size


def multi_head_attention(query: Tensor,
                         key: Tensor,
                         value: Tensor,
                         num_heads: int,
                         attn_mask: Optional[Tensor] = None) -> Tensor:
    """Multi-head attention on already projected tokens.

    Uses PyTorch's fused ``scaled_dot_product_attention`` (flash / memory
    efficient kernels where the device has them).

    Args:
        query (Tensor): Queries of shape (B, N, C).
        key (Tensor): Keys of shape (B, M, C).
        value (Tensor): Values of shape (B, M, C).
        num_heads (int): Number of heads; must divide C.
        attn_mask (Tensor, optional): Boolean mask broadcastable to
            (B, heads, N, M); True marks the keys a query may attend to.

    Returns:
        Tensor: The attended values, shape (B, N, C).
    """
    batch, num_queries, channels = query.shape

    def split_heads(x: Tensor) -> Tensor:
        # (B, L, C) -> (B, heads, L, C / heads)
        return x.unflatten(-1,
                           (num_heads, channels // num_heads)).transpose(1, 2)

    out = F.scaled_dot_product_attention(
        split_heads(query),
        split_heads(key),
        split_heads(value),
        attn_mask=attn_mask)
    # (B, heads, N, C / heads) -> (B, N, C)
    return out.transpose(1, 2).reshape(batch, num_queries, channels)


def resize_token_grid(grid: Tensor, size: tuple) -> Tensor:
    """Bilinearly resizes a channels-last grid of tokens.

    Shrinking is antialiased, so every cell of the larger grid contributes
    and no position is skipped; a grid already of ``size`` is returned as is
    (also when compiled, which specialises on the size; not in a traced or
    exported graph, which must also serve other input sizes).

    Args:
        grid (Tensor): Tokens of shape (B, h, w, C).
        size (tuple): Target (h', w').

    Returns:
        Tensor: Tokens of shape (B, h', w', C).
    """
    if same_size(grid.shape[1:3], size):
        return grid
    return antialiased_resize(grid, size)


def to_channels_first(x: Tensor) -> Tensor:
    """(B, H, W, C) -> (B, C, H, W)."""
    return x.permute(0, 3, 1, 2)


def to_channels_last(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, H, W, C)."""
    return x.permute(0, 2, 3, 1)


__all__ = [
    'multi_head_attention', 'resize_token_grid', 'to_channels_first',
    'to_channels_last'
]
