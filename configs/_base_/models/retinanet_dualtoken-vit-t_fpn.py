# mmdet's RetinaNet with DualToken-ViT-T in place of ResNet-50: strides
# 8/16/32 plus two extra convs on the last input, 8-128, the levels mmdet's
# RetinaNet anchors expect.
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

# Set this to your ImageNet checkpoint of DualToken-ViT-T.
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
    neck=dict(
        in_channels=[48, 96, 192],
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5))
