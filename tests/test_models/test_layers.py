import pytest
import torch
from torch import nn

from mmdualtoken.analysis import get_complexity
from mmdualtoken.models.layers import (PositionAwareTokenModule,
                                       multi_head_attention, resize_token_grid)


def test_multi_head_attention_matches_explicit_softmax():
    q, k, v = torch.randn(2, 5, 8), torch.randn(2, 3, 8), torch.randn(2, 3, 8)
    out = multi_head_attention(q, k, v, num_heads=2)
    split = [t.view(2, -1, 2, 4).transpose(1, 2) for t in (q, k, v)]
    weights = (split[0] @ split[1].transpose(-1, -2) / 2).softmax(-1)
    expected = (weights @ split[2]).transpose(1, 2).reshape(2, 5, 8)
    torch.testing.assert_close(out, expected)


def test_resize_token_grid_keeps_positions():
    grid = torch.zeros(1, 7, 7, 4)
    grid[0, 0, 0] = 1.
    assert resize_token_grid(grid, (7, 7)) is grid
    large = resize_token_grid(grid, (25, 42))
    assert large.shape == (1, 25, 42, 4)
    # The corner token stays within its cell and the next one (bilinear) ...
    assert large[0, 8:].abs().max() == 0 and large[0, :, 12:].abs().max() == 0
    assert large[0, 0, 0, 0] == 1.
    # ... and comes back to its own cell, the others staying near zero.
    back = resize_token_grid(large, (7, 7))
    assert back[0, 0, 0, 0] == back[..., 0].max()
    assert back[0, 3:, 3:].abs().max() < 1e-6


@pytest.mark.parametrize('map_size', [(7, 7), (11, 16)])
def test_token_module_fuses_global_tokens_cell_by_cell(map_size):
    """With the weighted sum reduced to the tokens alone, the enriched tokens
    are the input tokens (resized to the map and back when sizes differ)."""
    module = PositionAwareTokenModule(16, num_heads=2, downsample_steps=0)
    with torch.no_grad():
        module.fusion_weights[0] = 0.
        module.fusion_weights[1] = 1.
    tokens = torch.randn(2, 7, 7, 16)
    x = torch.randn(2, *map_size, 16)
    x_global, enriched = module(x, tokens)
    assert x_global.shape == x.shape
    expected = resize_token_grid(resize_token_grid(tokens, map_size), (7, 7))
    torch.testing.assert_close(enriched, expected)


def test_token_module_stepwise_downsampling_reaches_the_token_stride():
    module = PositionAwareTokenModule(16, num_heads=2, downsample_steps=2)
    pooled = module.downsample(torch.randn(1, 28, 41, 16))
    assert pooled.shape == (1, 7, 11, 16)


class _Attention(nn.Module):

    def forward(self, x):
        return multi_head_attention(x, x, x, num_heads=2)


def test_flop_count_includes_fused_attention():
    # One (1, 3 * 8, 8) input viewed as 24 tokens of 8 channels.
    class Wrapper(nn.Module):

        def forward(self, image):
            return _Attention()(image.flatten(1, 2))

    flops = get_complexity(Wrapper(), (3, 8, 8))['flops']
    # Q K^T and A V: heads * N * N * head_dims each.
    assert flops == 2 * 2 * 24 * 24 * 4
