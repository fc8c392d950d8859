# Ablation (downsampling, on S (mix) as in the paper): one average pooling
# straight to the global-token stride instead of the step-wise reduction.
_base_ = '../dualtoken-vit-s-mix_8xb128_in1k.py'

model = dict(backbone=dict(downsample='one_step'))
