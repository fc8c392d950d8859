# What the toy ADE20K demos share besides their head: the toy data at 96 px
# (./datasets/toy-ade20k_96x96.py), mmseg's runtime, the short schedule
# (./schedules/toy-ade20k_400.py), and the changes to the model they set
# with model = {{_base_.toy_ade20k_model}}. No ImageNet checkpoint: the
# backbone starts from its own initialization.
_base_ = [
    './datasets/toy-ade20k_96x96.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/toy-ade20k_400.py',
]

# 3x3 global tokens: the stride-32 grid of a 96 px image, as 7x7 is that of
# 224 px. The four classes of the toy data, and heads of 64 and 32 channels
# instead of 512 and 256, keep the heads' CPU cost in line with the images.
# One process: BatchNorm, not SyncBN, so that any tool runs it on a CPU.
toy_ade20k_model = dict(
    data_preprocessor=dict(size=(96, 96)),
    backbone=dict(init_cfg=None, global_token_grid=(3, 3), drop_path_rate=0.),
    decode_head=dict(
        norm_cfg=dict(type='BN', requires_grad=True),
        channels=64,
        num_classes=4),
    auxiliary_head=dict(
        norm_cfg=dict(type='BN', requires_grad=True),
        channels=32,
        num_classes=4))
