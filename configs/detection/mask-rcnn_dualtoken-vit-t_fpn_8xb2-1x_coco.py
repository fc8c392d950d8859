# Mask R-CNN 1x with DualToken-ViT-T on COCO 2017: 8 GPUs x 2 images at
# 1333x800, flip 0.5, and LightViT's detection schedule (12 epochs, lr steps
# at 8 and 11, AdamW 2e-4, weight decay 0.04), which DualToken-ViT follows.
_base_ = [
    '../_base_/models/mask-rcnn_dualtoken-vit-t_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/coco_adamw_1x.py',
    '../_base_/default_runtime_mmdet.py',
]
