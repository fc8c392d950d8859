# Our speed design, not the paper's model: every norm of the blocks and
# merge patches a BatchNorm, which backbone.switch_to_deploy() folds into
# the layers after it for inference (docs/speed.md).
_base_ = '../dualtoken-vit-t_8xb128_in1k.py'

model = dict(backbone=dict(block_norm_cfg=dict(type='BN')))
