_base_ = './dt_vit_s_8xb128_in1k.py'

model = dict(backbone=dict(arch='s-mix'))
