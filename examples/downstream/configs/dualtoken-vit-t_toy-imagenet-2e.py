# Our toy ImageNet classifier (DualToken-ViT-T) for 2 epochs instead of 16,
# run with mmpretrain's own tools through
# `python -m mmdualtoken mmpretrain train.py`.
_base_ = ('mmdualtoken::classification/demo/'
          'dualtoken-vit-t_1xb32-16e_toy-imagenet-32px.py')

train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2))
