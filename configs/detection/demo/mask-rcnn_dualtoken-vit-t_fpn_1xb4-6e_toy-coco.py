# Mask R-CNN with DualToken-ViT-T trained from scratch on the toy COCO
# written by tools/make_toy_data.py: the real model and optimizer, the toy
# data at 128 px and a short schedule. No ImageNet checkpoint: the backbone
# starts from its own initialization, so its BatchNorm layers must learn
# their statistics (norm_eval=False) instead of keeping pretrained ones.
_base_ = [
    '../../_base_/models/mask-rcnn_dualtoken-vit-t_fpn.py',
    '../../_base_/datasets/toy-coco_instance.py',
    '../../_base_/schedules/coco_adamw_1x.py',
    '../../_base_/default_runtime_mmdet.py',
]

# Toy images hold at most 4 objects: fewer sampled anchors, proposals and
# RoIs per image keep the heads' CPU cost in line with the 128 px images.
model = dict(
    backbone=dict(init_cfg=None, norm_eval=False),
    roi_head=dict(
        bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(max_per_img=200),
        rcnn=dict(sampler=dict(num=32))))

# Short schedule: 6 epochs of 40 iterations, steps at 4 and 5, 100 warm-up
# iterations.
max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[4, 5],
        gamma=0.1),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
