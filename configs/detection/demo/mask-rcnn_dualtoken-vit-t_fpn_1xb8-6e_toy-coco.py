# Mask R-CNN with DualToken-ViT-T trained from scratch on the toy COCO
# written by tools/make_toy_data.py: the real model and optimizer, the toy
# data at 96 px, 64-channel FPN and heads and a short schedule. No ImageNet
# checkpoint: the backbone starts from its own initialization, so its
# BatchNorm layers must learn their statistics (norm_eval=False) instead of
# keeping pretrained ones.
_base_ = [
    '../../_base_/models/mask-rcnn_dualtoken-vit-t_fpn.py',
    '../../_base_/datasets/toy-coco_instance.py',
    '../../_base_/schedules/toy-coco_6e.py',
    '../../_base_/default_runtime_mmdet.py',
]

# 3x3 global tokens: the stride-32 grid of a 96 px image, as 7x7 is that of
# 224 px. Toy images hold at most 3 objects: fewer sampled anchors, proposals
# and RoIs per image, and 64 channels instead of 256, keep the heads' CPU
# cost in line with the 96 px images.
channels = 64
model = dict(
    backbone=dict(
        init_cfg=None,
        norm_eval=False,
        global_token_grid=(3, 3),
        drop_path_rate=0.),
    neck=[
        dict(type='mmdualtoken.StrideFourLevel', in_channels=48),
        dict(
            type='FPN',
            in_channels=[48, 48, 96, 192],
            out_channels=channels,
            num_outs=5),
    ],
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(
            in_channels=channels, fc_out_channels=256, num_classes=3),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(
            in_channels=channels, conv_out_channels=channels, num_classes=3)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(max_per_img=200),
        rcnn=dict(sampler=dict(num=32))))

# One checkpoint, at the end of ../../_base_/schedules/toy-coco_6e.py.
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=6, max_keep_ckpts=1))
