"""Deterministic synthetic datasets in the real ImageNet, COCO and ADE20K
layouts, for demos and end-to-end tests where the real data is not at hand."""
from .ade20k import ADE_LABELS, make_toy_ade20k
from .coco import COCO_CLASSES, make_toy_coco
from .imagenet import IMAGENET_CLASSES, WNIDS, make_toy_imagenet

# Written beside each dataset by tools/make_toy_data.py, which rewrites a
# dataset of another version: raise it when the data changes.
TOY_DATA_VERSION = 3

# The demo configs (under configs/) that train on the toy data, by task.
DEMO_CONFIGS = dict(
    cls=('classification/demo/dualtoken-vit-t_1xb32-16e_toy-imagenet-32px.py',
         ),
    det=('detection/demo/mask-rcnn_dualtoken-vit-t_fpn_1xb8-6e_toy-coco.py',
         'detection/demo/retinanet_dualtoken-vit-t_fpn_1xb8-8e_toy-coco.py'),
    seg=tuple(f'segmentation/demo/{head}_dualtoken-vit-t_1xb8-400_'
              'toy-ade20k-96x96.py' for head in ('deeplabv3', 'pspnet')),
)

__all__ = [
    'DEMO_CONFIGS', 'TOY_DATA_VERSION', 'ADE_LABELS', 'make_toy_ade20k',
    'COCO_CLASSES', 'make_toy_coco', 'IMAGENET_CLASSES', 'WNIDS',
    'make_toy_imagenet'
]
