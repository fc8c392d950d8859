_base_ = './dualtoken-vit-t_8xb128_in1k.py'

model = dict(backbone=dict(arch='s'), neck=dict(in_channels=256))
