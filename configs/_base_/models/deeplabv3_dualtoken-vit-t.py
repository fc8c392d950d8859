# mmseg's DeepLabv3 with DualToken-ViT-T in place of the dilated ResNet-50.
# The base heads expect 2048 channels of deep features at stride 8: our three
# stages are resized to stride 8 and concatenated, so ASPP sees deep semantics
# at the resolution its dilations (1, 12, 24, 36) were chosen for; the
# auxiliary FCN head supervises the middle (stride 16) stage, as it does
# ResNet's third stage. 150 classes and 512x512 crops (ADE20K).
_base_ = 'mmseg::_base_/models/deeplabv3_r50-d8.py'
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

num_classes = 150
# Set this to your ImageNet checkpoint of DualToken-ViT-T.
pretrained = 'checkpoints/dualtoken-vit-t_8xb128_in1k.pth'

model = dict(
    data_preprocessor=dict(size=(512, 512)),
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmdualtoken.DualTokenViT',
        arch='t',
        out_indices=(0, 1, 2),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    decode_head=dict(
        in_channels=[48, 96, 192],
        in_index=[0, 1, 2],
        input_transform='resize_concat',
        num_classes=num_classes),
    auxiliary_head=dict(in_channels=96, in_index=1, num_classes=num_classes))
