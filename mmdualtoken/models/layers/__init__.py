from .attention import multi_head_attention, resize_token_grid
from .conv_encoder import ConvEncoder
from .dual_token_block import DualTokenBlock
from .feed_forward import (BiAttentionFFN, BiDimensionalAttention,
                           TokenMixingMLP)
from .position_aware_token import PositionAwareTokenModule, StepwiseDownsample

__all__ = [
    'multi_head_attention', 'resize_token_grid', 'ConvEncoder',
    'DualTokenBlock', 'BiAttentionFFN', 'BiDimensionalAttention',
    'TokenMixingMLP', 'PositionAwareTokenModule', 'StepwiseDownsample'
]
