# RetinaNet with DualToken-ViT-T trained from scratch on the toy COCO: the
# real model and optimizer, the toy data at 96 px, a 64-channel FPN and a
# lighter head, and a short schedule (as in the Mask R-CNN demo).
_base_ = [
    '../../_base_/models/retinanet_dualtoken-vit-t_fpn.py',
    '../../_base_/datasets/toy-coco_detection.py',
    '../../_base_/schedules/toy-coco_8e.py',
    '../../_base_/default_runtime_mmdet.py',
]

# In 400 iterations from scratch, RetinaNet's head of four plain convs per
# branch stays near 0.15 bbox mAP here. One conv per branch with GroupNorm
# (as in mmdet's FCOS and ATSS heads) and the GIoU loss on decoded boxes
# (as in its ATSS and GFL configs) learn the toy boxes: about 0.6.
channels = 64
model = dict(
    backbone=dict(
        init_cfg=None,
        norm_eval=False,
        global_token_grid=(3, 3),
        drop_path_rate=0.),
    neck=dict(out_channels=channels),
    bbox_head=dict(
        num_classes=3,
        in_channels=channels,
        feat_channels=channels,
        stacked_convs=1,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GIoULoss', loss_weight=2.0)))

# One checkpoint, at the end of ../../_base_/schedules/toy-coco_8e.py.
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=8, max_keep_ckpts=1))
