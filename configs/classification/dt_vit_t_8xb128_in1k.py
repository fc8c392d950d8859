# DualToken-ViT-T on ImageNet-1K with LightViT's recipe, which the paper
# follows: 300 epochs, 8 GPUs x 128 images, AdamW lr 1e-3 (not batch-scaled),
# weight decay 0.04 with none on norms, biases and global tokens, 20 warm-up
# epochs from 1e-7, per-iteration cosine to 1e-6, RandAugment m9-mstd0.5,
# random erasing 0.25, Mixup 0.2 / CutMix 1.0, label smoothing 0.1, drop path
# 0.1, bicubic 224 crops; evaluation resizes to 256 and center-crops 224.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmdualtoken.DualTokenViT', arch='t', drop_path_rate=0.1),
    # LightViT's head: per-token Linear 1280 + LN + GELU, mean, classifier.
    neck=dict(
        type='mmdualtoken.TokenProjectionNeck',
        in_channels=192,
        out_channels=1280),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.2),
        dict(type='CutMix', alpha=1.0),
    ]),
)

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=0.04),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            '.global_tokens': dict(decay_mult=0.0),
            '.fusion_weights': dict(decay_mult=0.0),
        }),
)

# mmengine tags each dict of an `mmpretrain::` base with `_scope_`, which
# mmpretrain's tools/visualization/browse_dataset.py passes on to the
# visualizer's constructor: restated here without it.
visualizer = dict(
    _delete_=True,
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,  # 1e-7 / 1e-3
        by_epoch=True,
        end=20,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=20,
        end=300,
        convert_to_iter_based=True),
]
