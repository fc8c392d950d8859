"""Inference with our configs: models, the hosts' inferencers, pictures."""
from .inference import (draw_prediction, draw_validation_sample,
                        init_inferencer, init_model)

__all__ = [
    'init_model', 'init_inferencer', 'draw_prediction',
    'draw_validation_sample'
]
