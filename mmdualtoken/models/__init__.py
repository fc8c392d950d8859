from .backbones import DualTokenViT
from .necks import StrideFourLevel, TokenProjectionNeck

__all__ = ['DualTokenViT', 'StrideFourLevel', 'TokenProjectionNeck']
