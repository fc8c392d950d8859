# LightViT's ImageNet schedule, which DualToken-ViT follows: 300 epochs,
# AdamW lr 1e-3 for 8 GPUs x 128 images (not batch-scaled), weight decay 0.04
# with none on norms, biases and global tokens, 20 linear warm-up epochs from
# 1e-7, then cosine to 1e-6, both stepped every iteration.
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py'

optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=0.04),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            '.global_tokens': dict(decay_mult=0.0),
            '.fusion_weights': dict(decay_mult=0.0),
        }),
)

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
