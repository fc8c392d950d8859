# RetinaNet with DualToken-ViT-T trained from scratch on the toy COCO: the
# real model and optimizer, the toy data at 96 px, a 64-channel FPN and head
# and a short schedule (as in the Mask R-CNN demo).
_base_ = [
    '../../_base_/models/retinanet_dualtoken-vit-t_fpn.py',
    '../../_base_/datasets/toy-coco_detection.py',
    '../../_base_/schedules/toy-coco_6e.py',
    '../../_base_/default_runtime_mmdet.py',
]

channels = 64
model = dict(
    backbone=dict(
        init_cfg=None,
        norm_eval=False,
        global_token_grid=(3, 3),
        drop_path_rate=0.),
    neck=dict(out_channels=channels),
    bbox_head=dict(
        num_classes=3, in_channels=channels, feat_channels=channels))

# One checkpoint, at the end of ../../_base_/schedules/toy-coco_6e.py.
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=6, max_keep_ckpts=1))
