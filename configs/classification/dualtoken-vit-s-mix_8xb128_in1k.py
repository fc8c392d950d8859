_base_ = './dualtoken-vit-s_8xb128_in1k.py'

model = dict(backbone=dict(arch='s-mix'))
