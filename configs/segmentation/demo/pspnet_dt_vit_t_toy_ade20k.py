# PSPNet with DualToken-ViT-T trained from scratch on the toy ADE20K: the
# DeepLabv3 demo (data, crop size and schedule swapped in) with the head of
# ../pspnet_dt_vit_t_4xb4_80k_ade20k_512x512.py.
_base_ = './deeplabv3_dt_vit_t_toy_ade20k.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=[48, 96, 192],
        in_index=[0, 1, 2],
        input_transform='resize_concat',
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
