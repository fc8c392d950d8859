from .stride_four_level import StrideFourLevel
from .token_projection_neck import TokenProjectionNeck

__all__ = ['StrideFourLevel', 'TokenProjectionNeck']
