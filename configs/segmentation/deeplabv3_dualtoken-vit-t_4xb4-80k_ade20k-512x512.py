# DeepLabv3 with DualToken-ViT-T on ADE20K: 512x512 crops, 4 GPUs x 4
# images, 80k iterations, AdamW with poly decay
# (../_base_/schedules/ade20k_adamw_80k.py says which settings are ours).
_base_ = [
    '../_base_/models/deeplabv3_dualtoken-vit-t.py',
    '../_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/ade20k_adamw_80k.py',
]

crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=4)
# A checkpoint every 2,000 iterations (a kill loses at most 2.5 % of the
# run), the last three kept.
default_hooks = dict(checkpoint=dict(interval=2000, max_keep_ckpts=3))
