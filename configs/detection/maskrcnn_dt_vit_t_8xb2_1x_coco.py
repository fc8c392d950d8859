# Mask R-CNN 1x with DualToken-ViT-T on COCO 2017: 12 epochs, lr steps at 8
# and 11, AdamW lr 2e-4, weight decay 0.04 (none on norms and global tokens),
# 500 warm-up iterations, 8 GPUs x 2 images at 1333x800, flip 0.5 (the
# recipe of LightViT, which DualToken-ViT follows).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    './_base_/dt_vit_schedule_1x.py',
]

# Set this to your ImageNet checkpoint of DualToken-ViT-T, e.g. the one
# tools/train.py wrote for configs/classification/dt_vit_t_8xb128_in1k.py.
pretrained = 'checkpoints/dt_vit_t_8xb128_in1k.pth'

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
    # Strides 8/16/32 from the backbone, 4 from a transposed conv: mmdet's
    # five FPN levels (4-64), so the standard anchors and RoI extractors hold.
    neck=[
        dict(type='mmdualtoken.StrideFourLevel', in_channels=48),
        dict(
            type='FPN',
            in_channels=[48, 48, 96, 192],
            out_channels=256,
            num_outs=5),
    ])
