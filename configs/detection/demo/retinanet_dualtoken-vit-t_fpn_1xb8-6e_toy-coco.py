# RetinaNet with DualToken-ViT-T trained from scratch on the toy COCO: the
# real model and optimizer, the toy data at 96 px, a 64-channel FPN and head
# and a short schedule (as in the Mask R-CNN demo).
_base_ = [
    '../../_base_/models/retinanet_dualtoken-vit-t_fpn.py',
    '../../_base_/datasets/toy-coco_detection.py',
    '../../_base_/schedules/coco_adamw_1x.py',
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

# Short schedule: 6 epochs of 50 iterations at a 10x higher lr, 50 warm-up
# iterations, then cosine.
optim_wrapper = dict(optimizer=dict(lr=2e-3))
max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
