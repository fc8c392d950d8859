from .dualtoken_vit import DualTokenViT

__all__ = ['DualTokenViT']
