# mmseg's PSPNet head (pool scales 1, 2, 3, 6) in place of ASPP on the
# DeepLabv3 model of ./deeplabv3_dualtoken-vit-t.py, fed the same way: all
# three stages resized to stride 8 and concatenated.
_base_ = './deeplabv3_dualtoken-vit-t.py'

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
