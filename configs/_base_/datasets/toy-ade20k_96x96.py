# The toy ADE20K that tools/make_toy_data.py writes (ADEChallengeData2016's
# layout, 128 px images): mmseg's ADE20K pipeline with 96x96 crops from
# images resized to 128 px high, 4 images a batch.
_base_ = './ade20k.py'

data_root = 'data/toy/ade20k'
crop_size = (96, 96)
scale = (512, 128)

train_pipeline = [
    dict(type='mmdualtoken.SeedAugmentation'),
    dict(type='mmdualtoken.CheckedLoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mmdualtoken.CheckSegMap', num_classes=150),
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
    dict(type='mmdualtoken.CheckedLoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mmdualtoken.CheckSegMap', num_classes=150),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
