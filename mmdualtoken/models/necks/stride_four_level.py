from typing import Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdualtoken.registry import MODELS


@MODELS.register_module()
class StrideFourLevel(BaseModule):
    """Adds a stride-4 level to the backbone's stride-8/16/32 pyramid.

    DualToken-ViT (like LightViT) starts at stride 8; detectors such as Mask
    R-CNN expect mmdet's usual five levels at strides 4-64. As LightViT does,
    the stride-4 map is a 2x2 transposed convolution (stride 2) of the
    stride-8 map. Put it before mmdet's ``FPN`` in a neck list::

        neck=[dict(type='mmdualtoken.StrideFourLevel', in_channels=64),
              dict(type='FPN', in_channels=[64, 64, 128, 256], ...)]

    Args:
        in_channels (int): Channels of the first (stride-8) input.
        out_channels (int, optional): Channels of the new level; defaults to
            ``in_channels``.
        init_cfg (dict, optional): Initialization config.

    Example:
        >>> import torch
        >>> neck = StrideFourLevel(64)
        >>> feats = (torch.rand(1, 64, 13, 21), torch.rand(1, 128, 7, 11))
        >>> [tuple(f.shape) for f in neck(feats)]
        [(1, 64, 26, 42), (1, 64, 13, 21), (1, 128, 7, 11)]
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = None,
                 init_cfg=dict(type='Kaiming', layer='ConvTranspose2d')):
        super().__init__(init_cfg=init_cfg)
        self.upsample = nn.ConvTranspose2d(
            in_channels, out_channels or in_channels, kernel_size=2, stride=2)

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        return (self.upsample(inputs[0]), *inputs)
