"""Deterministic synthetic datasets in the real ImageNet, COCO and ADE20K
layouts, for demos and end-to-end tests where the real data is not at hand."""
from .ade20k import ADE_LABELS, make_toy_ade20k
from .coco import COCO_CLASSES, make_toy_coco
from .imagenet import IMAGENET_CLASSES, WNIDS, make_toy_imagenet

__all__ = [
    'ADE_LABELS', 'make_toy_ade20k', 'COCO_CLASSES', 'make_toy_coco',
    'IMAGENET_CLASSES', 'WNIDS', 'make_toy_imagenet'
]
