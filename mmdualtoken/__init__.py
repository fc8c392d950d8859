"""DualToken-ViT for the OpenMMLab task libraries."""
from .engine import allow_mmengine_checkpoint_types
from .models import DualTokenViT, StrideFourLevel, TokenProjectionNeck  # noqa: F401,E501

__version__ = '0.1.0'

allow_mmengine_checkpoint_types()
