# RetinaNet with DualToken-ViT-T trained from scratch on the toy COCO
# written by tools/make_toy_data.py: the real config with data, image size
# (128) and a short schedule swapped in. No ImageNet checkpoint: the
# backbone starts from its own initialization, so its BatchNorm layers must
# learn their statistics (norm_eval=False) instead of keeping pretrained ones.
_base_ = '../retinanet_dt_vit_t_8xb2_1x_coco.py'

data_root = 'data/toy/coco/'
metainfo = dict(classes=('square', 'disc', 'triangle'))
image_scale = (128, 128)

model = dict(
    backbone=dict(init_cfg=None, norm_eval=False),
    bbox_head=dict(num_classes=3))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
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
