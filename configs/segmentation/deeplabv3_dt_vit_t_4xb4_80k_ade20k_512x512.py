# DeepLabv3 with DualToken-ViT-T on ADE20K (150 classes): 512x512 crops,
# 4 GPUs x 4 images, 80k iterations, AdamW with poly decay, no weight decay
# on norms and global tokens. The paper's own segmentation hyper-parameters
# were not recovered: lr 2e-4, weight decay 0.04 (as for detection), 1500
# linear warm-up iterations and poly power 1.0 are our choices.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

crop_size = (512, 512)
num_classes = 150
# Set this to your ImageNet checkpoint of DualToken-ViT-T.
pretrained = 'checkpoints/dt_vit_t_8xb128_in1k.pth'

# The base heads expect a dilated ResNet: 2048 channels of deep features at
# stride 8. Our three stages are resized to stride 8 and concatenated, so
# ASPP sees deep semantics at the resolution its dilations (1, 12, 24, 36)
# were chosen for; the auxiliary FCN head supervises the middle (stride 16)
# stage, as it does ResNet's third stage.
model = dict(
    data_preprocessor=dict(size=crop_size),
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

train_dataloader = dict(batch_size=4)

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.04),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            '.global_tokens': dict(decay_mult=0.0),
            '.fusion_weights': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=False,
        begin=1500,
        end=80000),
]
