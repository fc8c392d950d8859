# mmdet's RetinaNet with DualToken-ViT-T in place of ResNet-50: strides
# 8/16/32 plus two extra convs on the last input, 8-128, the levels mmdet's
# RetinaNet anchors expect.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    './dualtoken-vit-t_detection-backbone.py',
]

model = dict(
    backbone={{_base_.dualtoken_backbone}},
    neck=dict(
        in_channels=[48, 96, 192],
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5))
