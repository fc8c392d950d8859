# RetinaNet with DualToken-ViT-T trained from scratch on the toy COCO: the
# real model and optimizer, the toy data at 128 px and a short schedule
# (BatchNorm learns its statistics, as in the Mask R-CNN demo).
_base_ = [
    '../../_base_/models/retinanet_dualtoken-vit-t_fpn.py',
    '../../_base_/datasets/toy-coco_detection.py',
    '../../_base_/schedules/coco_adamw_1x.py',
    '../../_base_/default_runtime_mmdet.py',
]

model = dict(
    backbone=dict(init_cfg=None, norm_eval=False),
    bbox_head=dict(num_classes=3))

# Short schedule: 8 epochs of 40 iterations, steps at 6 and 7, 100 warm-up
# iterations.
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[6, 7],
        gamma=0.1),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
