from typing import Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdualtoken.registry import MODELS


@MODELS.register_module()
class TokenProjectionNeck(BaseModule):
    """LightViT's classification neck: project every token, then average.

    Linear C -> ``out_channels`` + LayerNorm + GELU on each token of the last
    feature map, then the mean over tokens. Projecting before pooling (not
    after, as ``LinearNeck`` does) is what LightViT and DualToken-ViT use.

    Args:
        in_channels (int): Channels C of the last backbone output.
        out_channels (int): Width of the projection. Defaults to 1280.
        init_cfg (dict, optional): Initialization config.

    Example:
        >>> import torch
        >>> neck = TokenProjectionNeck(256)
        >>> neck((torch.rand(2, 256, 7, 7), ))[0].shape
        torch.Size([2, 1280])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 1280,
                 init_cfg=dict(type='TruncNormal', layer='Linear', std=.02)):
        super().__init__(init_cfg=init_cfg)
        self.proj = nn.Linear(in_channels, out_channels)
        self.norm = nn.LayerNorm(out_channels)
        self.act = nn.GELU()

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor]:
        """Takes the backbone outputs and pools the last, (B, C, H, W)."""
        tokens = inputs[-1].flatten(2).transpose(1, 2)  # (B, H * W, C)
        return (self.act(self.norm(self.proj(tokens))).mean(dim=1), )
