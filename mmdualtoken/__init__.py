"""DualToken-ViT for the OpenMMLab task libraries."""
from .models import DualTokenViT, TokenProjectionNeck  # noqa: F401

__version__ = '0.1.0'
