# Ablation (global tokens): the paper's "normal" global tokens, fused with
# the image tokens by attention as in LightViT, instead of the
# position-aware weighted sum.
_base_ = '../dualtoken-vit-s_8xb128_in1k.py'

model = dict(backbone=dict(global_token_fusion='attention'))
