_base_ = './retinanet_dualtoken-vit-t_fpn_8xb2-1x_coco.py'

pretrained = 'checkpoints/dualtoken-vit-s_8xb128_in1k.pth'
model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256]))
