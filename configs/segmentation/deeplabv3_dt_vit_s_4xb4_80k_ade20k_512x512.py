_base_ = './deeplabv3_dt_vit_t_4xb4_80k_ade20k_512x512.py'

pretrained = 'checkpoints/dt_vit_s_8xb128_in1k.pth'
model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=pretrained)),
    decode_head=dict(in_channels=[64, 128, 256]),
    auxiliary_head=dict(in_channels=128))
