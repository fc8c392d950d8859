# DualToken-ViT-T trained from scratch on the toy ImageNet written by
# tools/make_toy_data.py: the real model and optimizer, the toy data at 64 px
# and a short schedule.
_base_ = [
    '../../_base_/models/dualtoken-vit-t.py',
    '../../_base_/datasets/toy-imagenet_bs32_64px.py',
    '../../_base_/schedules/imagenet_bs1024_adamw_lightvit.py',
    '../../_base_/default_runtime_mmpretrain.py',
]

model = dict(head=dict(num_classes=4))

# Short schedule: 30 epochs of 8 iterations, 2 warm-up epochs.
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-2,
        by_epoch=True,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=2,
        end=max_epochs,
        convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(interval=8),
    checkpoint=dict(interval=10, max_keep_ckpts=1, save_last=True))
randomness = dict(seed=0)
