# DualToken-ViT-T trained from scratch on the toy ImageNet written by
# tools/make_toy_data.py: the real model and optimizer, the toy shapes at
# 32 px and a short schedule.
_base_ = [
    '../../_base_/models/dualtoken-vit-t.py',
    '../../_base_/datasets/toy-imagenet_bs32_32px.py',
    '../../_base_/schedules/imagenet_bs1024_adamw_lightvit.py',
    '../../_base_/default_runtime_mmpretrain.py',
]

# One global token: the stride-32 grid of a 32 px image, as 7x7 is that of
# 224 px (7x7 tokens here would be 49 copies of one, at 2.3x the cost).
# Without Mixup / CutMix and drop path, which slow a 500-iteration schedule
# down more than they regularize it.
model = dict(
    backbone=dict(global_token_grid=(1, 1), drop_path_rate=0.),
    head=dict(num_classes=4),
    train_cfg=dict(_delete_=True))

# Short schedule: 16 epochs of 32 iterations, 3 warm-up epochs (with one,
# some seeds never leave chance level).
max_epochs = 16
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-2,
        by_epoch=True,
        end=3,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=3,
        end=max_epochs,
        convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(interval=8),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_last=True))
randomness = dict(seed=0)
