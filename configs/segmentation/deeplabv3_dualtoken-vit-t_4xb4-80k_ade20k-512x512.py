# DeepLabv3 with DualToken-ViT-T on ADE20K: 512x512 crops, 4 GPUs x 4
# images, 80k iterations, AdamW with poly decay
# (../_base_/schedules/ade20k_adamw_80k.py says which settings are ours).
_base_ = [
    '../_base_/models/deeplabv3_dualtoken-vit-t.py',
    '../_base_/ade20k_adamw-80k.py',
]
