# mmdet's Mask R-CNN with DualToken-ViT-T in place of ResNet-50. The backbone
# gives strides 8/16/32; a transposed conv adds stride 4, so mmdet's five FPN
# levels (4-64), standard anchors and RoI extractors hold.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

# Set this to your ImageNet checkpoint of DualToken-ViT-T, e.g. the one
# tools/train.py wrote for
# configs/classification/dualtoken-vit-t_8xb128_in1k.py.
pretrained = 'checkpoints/dualtoken-vit-t_8xb128_in1k.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdualtoken.DualTokenViT',
        arch='t',
        out_indices=(0, 1, 2),
        drop_path_rate=0.1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=[
        dict(type='mmdualtoken.StrideFourLevel', in_channels=48),
        dict(
            type='FPN',
            in_channels=[48, 48, 96, 192],
            out_channels=256,
            num_outs=5),
    ])
