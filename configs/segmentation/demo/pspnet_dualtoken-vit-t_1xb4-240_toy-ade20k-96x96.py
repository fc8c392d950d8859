# PSPNet with DualToken-ViT-T trained from scratch on the toy ADE20K
# written by tools/make_toy_data.py: the real model, the toy data with 96x96
# crops and a short schedule. No ImageNet checkpoint: the backbone starts
# from its own initialization.
_base_ = [
    '../../_base_/models/pspnet_dualtoken-vit-t.py',
    '../../_base_/datasets/toy-ade20k_96x96.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/toy-ade20k_240.py',
]

crop_size = (96, 96)
# One process: BatchNorm, not SyncBN, so that any tool runs it on a CPU.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(norm_cfg=norm_cfg),
    auxiliary_head=dict(norm_cfg=norm_cfg))
