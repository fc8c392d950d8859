"""Inference with our configs: models, the hosts' inferencers, pictures."""
from .inference import draw_prediction, init_inferencer, init_model

__all__ = ['init_model', 'init_inferencer', 'draw_prediction']
