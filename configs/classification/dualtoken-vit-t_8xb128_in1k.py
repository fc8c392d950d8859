# DualToken-ViT-T on ImageNet-1K with LightViT's recipe, which the paper
# follows: 8 GPUs x 128 images, RandAugment m9-mstd0.5, random erasing 0.25,
# bicubic 224 crops; evaluation resizes to 256 and center-crops 224. Model
# and schedule: ../_base_/models/dualtoken-vit-t.py and
# ../_base_/schedules/imagenet_bs1024_adamw_lightvit.py.
_base_ = [
    '../_base_/models/dualtoken-vit-t.py',
    '../_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/imagenet_bs1024_adamw_lightvit.py',
    '../_base_/default_runtime_mmpretrain.py',
]

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader
# One checkpoint per epoch (a kill loses at most 1 of 300 epochs), the last
# three kept.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
