# Mask R-CNN with DualToken-ViT-T trained from scratch on the toy COCO
# written by tools/make_toy_data.py: the real config with data, image size
# (128) and a short schedule swapped in. No ImageNet checkpoint: the
# backbone starts from its own initialization, so its BatchNorm layers must
# learn their statistics (norm_eval=False) instead of keeping pretrained ones.
_base_ = '../maskrcnn_dt_vit_t_8xb2_1x_coco.py'

data_root = 'data/toy/coco/'
metainfo = dict(classes=('square', 'disc', 'triangle'))
num_classes = 3
image_scale = (128, 128)

# Toy images hold at most 4 objects: fewer sampled anchors, proposals and
# RoIs per image keep the heads' CPU cost in line with the 128 px images.
model = dict(
    backbone=dict(init_cfg=None, norm_eval=False),
    roi_head=dict(
        bbox_head=dict(num_classes=num_classes),
        mask_head=dict(num_classes=num_classes)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(max_per_img=200),
        rcnn=dict(sampler=dict(num=32))))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

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
