# mmseg's ADE20K data (the file of the same name), with the data side of
# the run protections: a loader that names a bad image, a check of each
# label map (size, one channel, labels below the class count), seeded
# augmentation and resumable batches (see ./imagenet_bs64_swin_224.py).
_base_ = 'mmseg::_base_/datasets/ade20k.py'

train_pipeline = [
    dict(type='mmdualtoken.SeedAugmentation'),
    dict(type='mmdualtoken.CheckedLoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mmdualtoken.CheckSegMap', num_classes=150),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='mmdualtoken.CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mmdualtoken.CheckSegMap', num_classes=150),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_sampler=dict(type='mmdualtoken.ResumableBatchSampler'),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
