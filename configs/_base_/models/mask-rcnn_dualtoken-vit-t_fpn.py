# mmdet's Mask R-CNN with DualToken-ViT-T in place of ResNet-50. The backbone
# gives strides 8/16/32; a transposed conv adds stride 4, so mmdet's five FPN
# levels (4-64), standard anchors and RoI extractors hold.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    './dualtoken-vit-t_detection-backbone.py',
]

model = dict(
    backbone={{_base_.dualtoken_backbone}},
    neck=[
        dict(type='mmdualtoken.StrideFourLevel', in_channels=48),
        dict(
            type='FPN',
            in_channels=[48, 48, 96, 192],
            out_channels=256,
            num_outs=5),
    ])
