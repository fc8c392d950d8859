# Ablation (global tokens): the paper's "normal" global tokens, fused with
# the image tokens by attention as in LightViT, instead of the
# position-aware weighted sum.
_base_ = '../dt_vit_s_8xb128_in1k.py'

model = dict(backbone=dict(global_token_fusion='attention'))
