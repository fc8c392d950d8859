# DualToken-ViT-T as mmdet's detectors take it in place of ResNet-50: the
# three stages (strides 8/16/32), stochastic depth 0.1, and the BatchNorm
# statistics of the ImageNet checkpoint kept (norm_eval). The detector bases
# set model.backbone = {{_base_.dualtoken_backbone}}; the S configs change
# its arch and checkpoint.
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

# Set this to your ImageNet checkpoint of DualToken-ViT-T, e.g. the one
# tools/train.py wrote for
# configs/classification/dualtoken-vit-t_8xb128_in1k.py.
pretrained = 'checkpoints/dualtoken-vit-t_8xb128_in1k.pth'

dualtoken_backbone = dict(
    _delete_=True,  # none of ResNet's arguments stay
    type='mmdualtoken.DualTokenViT',
    arch='t',
    out_indices=(0, 1, 2),
    drop_path_rate=0.1,
    norm_eval=True,
    init_cfg=dict(
        type='Pretrained', checkpoint=pretrained, prefix='backbone.'))
