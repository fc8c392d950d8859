# DualToken-ViT-T ImageNet classifier with LightViT's head (per-token Linear
# 1280 + LN + GELU, mean over tokens, linear classifier), label smoothing
# 0.1, drop path 0.1 and Mixup 0.2 / CutMix 1.0.
custom_imports = dict(imports=['mmdualtoken'], allow_failed_imports=False)

# `_scope_`: the classifier is mmpretrain's also where this file is
# inherited as `mmdualtoken::`, whose dicts mmengine would tag with our scope.
model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(
        type='mmdualtoken.DualTokenViT', arch='t', drop_path_rate=0.1),
    neck=dict(
        type='mmdualtoken.TokenProjectionNeck',
        in_channels=192,
        out_channels=1280),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.2),
        dict(type='CutMix', alpha=1.0),
    ]),
)
