# Ablation (local branch): 7x7 window self-attention instead of the Conv
# Encoder.
_base_ = '../dualtoken-vit-s_8xb128_in1k.py'

model = dict(backbone=dict(local_branch='window_attention'))
