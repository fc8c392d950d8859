# DeepLabv3 with DualToken-ViT-T trained from scratch on the toy ADE20K
# written by tools/make_toy_data.py: the real config with data, crop size
# (96, from 128 px images) and a short schedule swapped in. No ImageNet
# checkpoint: the backbone starts from its own initialization.
_base_ = '../deeplabv3_dt_vit_t_4xb4_80k_ade20k_512x512.py'

data_root = 'data/toy/ade20k'
crop_size = (96, 96)
scale = (512, 128)

model = dict(
    data_preprocessor=dict(size=crop_size), backbone=dict(init_cfg=None))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(
        type='RandomResize',
        scale=scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

# Short schedule: 240 iterations, 30 of them warm-up, poly decay, a 5x
# higher lr (from scratch, for so few iterations).
max_iters = 240
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=30),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=False,
        begin=30,
        end=max_iters),
]
default_hooks = dict(
    logger=dict(interval=40),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)
