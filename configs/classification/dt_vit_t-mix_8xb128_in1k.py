_base_ = './dt_vit_t_8xb128_in1k.py'

model = dict(backbone=dict(arch='t-mix'))
