# RetinaNet 1x with DualToken-ViT-T on COCO 2017, same recipe as Mask R-CNN:
# 12 epochs, steps at 8 and 11, AdamW lr 2e-4, weight decay 0.04 (none on
# norms and global tokens), 500 warm-up iterations, 8 GPUs x 2, 1333x800.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    './_base_/dt_vit_schedule_1x.py',
]

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
    # Strides 8/16/32 plus two extra convs on the last input: 8-128, the
    # levels mmdet's RetinaNet anchors expect.
    neck=dict(
        in_channels=[48, 96, 192],
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5))
