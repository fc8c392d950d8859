# PSPNet with DualToken-ViT-T trained from scratch on the toy ADE20K
# written by tools/make_toy_data.py: the real model with narrower heads,
# the toy data with 96x96 crops and a short schedule
# (../../_base_/toy-ade20k_400.py).
_base_ = [
    '../../_base_/models/pspnet_dualtoken-vit-t.py',
    '../../_base_/toy-ade20k_400.py',
]

model = {{_base_.toy_ade20k_model}}
