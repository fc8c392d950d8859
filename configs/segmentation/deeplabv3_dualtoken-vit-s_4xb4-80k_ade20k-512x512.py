_base_ = './deeplabv3_dualtoken-vit-t_4xb4-80k_ade20k-512x512.py'

pretrained = 'checkpoints/dualtoken-vit-s_8xb128_in1k.pth'
model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=pretrained)),
    decode_head=dict(in_channels=[64, 128, 256]),
    auxiliary_head=dict(in_channels=128))
