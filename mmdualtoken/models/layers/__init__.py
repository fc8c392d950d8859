from .attention import multi_head_attention, resize_token_grid
from .conv_encoder import ConvEncoder
from .dual_token_block import DualTokenBlock
from .feed_forward import (BiAttentionFFN, BiDimensionalAttention,
                           TokenMixingMLP)
from .position_aware_token import (GlobalBroadcast, GlobalTokenAttention,
                                   PositionAwareTokenModule,
                                   StepwiseDownsample)
from .window_attention import WindowAttentionEncoder

__all__ = [
    'multi_head_attention', 'resize_token_grid', 'ConvEncoder',
    'DualTokenBlock', 'BiAttentionFFN', 'BiDimensionalAttention',
    'TokenMixingMLP', 'GlobalBroadcast', 'GlobalTokenAttention',
    'PositionAwareTokenModule', 'StepwiseDownsample', 'WindowAttentionEncoder'
]
