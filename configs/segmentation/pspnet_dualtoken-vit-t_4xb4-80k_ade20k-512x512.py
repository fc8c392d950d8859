# PSPNet with DualToken-ViT-T on ADE20K: the data and schedule of the
# DeepLabv3 config with the model of
# ../_base_/models/pspnet_dualtoken-vit-t.py.
_base_ = [
    '../_base_/models/pspnet_dualtoken-vit-t.py',
    '../_base_/ade20k_adamw-80k.py',
]
