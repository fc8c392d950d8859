from .token_projection_neck import TokenProjectionNeck

__all__ = ['TokenProjectionNeck']
