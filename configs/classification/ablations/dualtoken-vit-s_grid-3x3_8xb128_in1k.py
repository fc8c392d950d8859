# Ablation (token grid): 3x3 global tokens, interpolated to each block's
# 7x7 downsampled map and back.
_base_ = '../dualtoken-vit-s_8xb128_in1k.py'

model = dict(backbone=dict(global_token_grid=(3, 3)))
