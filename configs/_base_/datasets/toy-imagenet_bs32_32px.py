# The toy ImageNet that tools/make_toy_data.py writes (mmpretrain's
# ImageNet layout, four classes of shapes, 64 px images): mmpretrain's
# ImageNet dataset resized to 32 px, with light augmentation (random resized
# crops and flips), loaded in the main process (see ./toy-coco_instance.py).
_base_ = './imagenet_bs64_swin_224.py'

data_root = 'data/toy/imagenet'
image_size = 32
metainfo = dict(classes=('square', 'disc', 'triangle', 'cross'))

data_preprocessor = dict(num_classes=len(metainfo['classes']))

train_pipeline = [
    dict(type='mmdualtoken.SeedAugmentation'),
    dict(type='mmdualtoken.CheckedLoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=image_size,
        crop_ratio_range=(0.7, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mmdualtoken.CheckedLoadImageFromFile'),
    dict(
        type='Resize',
        scale=(image_size, image_size),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
