"""DualToken-ViT for the OpenMMLab task libraries."""
from .engine import allow_mmengine_checkpoint_types
from .models import DualTokenViT, StrideFourLevel, TokenProjectionNeck

__version__ = '0.1.0'
__all__ = ['DualTokenViT', 'StrideFourLevel', 'TokenProjectionNeck']

allow_mmengine_checkpoint_types()
