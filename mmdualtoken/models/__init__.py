from .backbones import DualTokenViT
from .necks import TokenProjectionNeck

__all__ = ['DualTokenViT', 'TokenProjectionNeck']
