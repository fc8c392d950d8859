# DeepLabv3 with DualToken-ViT-T trained from scratch on the toy ADE20K
# written by tools/make_toy_data.py: the real model with narrower heads,
# the toy data with 96x96 crops and a short schedule. No ImageNet
# checkpoint: the backbone starts from its own initialization.
_base_ = [
    '../../_base_/models/deeplabv3_dualtoken-vit-t.py',
    '../../_base_/datasets/toy-ade20k_96x96.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/toy-ade20k_400.py',
]

crop_size = (96, 96)
# One process: BatchNorm, not SyncBN, so that any tool runs it on a CPU.
norm_cfg = dict(type='BN', requires_grad=True)
# 3x3 global tokens: the stride-32 grid of a 96 px image, as 7x7 is that of
# 224 px. The four classes of the toy data, and heads of 64 and 32 channels
# instead of 512 and 256, keep the heads' CPU cost in line with the images.
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None, global_token_grid=(3, 3), drop_path_rate=0.),
    decode_head=dict(norm_cfg=norm_cfg, channels=64, num_classes=4),
    auxiliary_head=dict(norm_cfg=norm_cfg, channels=32, num_classes=4))
