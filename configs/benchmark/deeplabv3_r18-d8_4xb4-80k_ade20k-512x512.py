# The ResNet-18 baseline that benchmark_train.py compares our DeepLabv3
# with: mmseg's DeepLabv3 R-50-D8 on ADE20K with mmseg's R-18-D8 settings
# (deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py), random weights.
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_ade20k-512x512.py'

model = dict(
    pretrained=None,
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
