# RetinaNet 1x with DualToken-ViT-T on COCO 2017, the recipe of the Mask
# R-CNN config: 8 GPUs x 2 images at 1333x800, 12 epochs, AdamW 2e-4.
_base_ = [
    '../_base_/models/retinanet_dualtoken-vit-t_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/coco_adamw_1x.py',
    '../_base_/default_runtime_mmdet.py',
]
