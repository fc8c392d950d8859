# Our toy DeepLabv3 (DualToken-ViT-T) for 40 iterations instead of 400, run
# with mmseg's own tools through `python -m mmdualtoken mmseg train.py`.
_base_ = ('mmdualtoken::segmentation/demo/'
          'deeplabv3_dualtoken-vit-t_1xb8-400_toy-ade20k-96x96.py')

train_cfg = dict(max_iters=40, val_interval=40)
default_hooks = dict(checkpoint=dict(interval=40))
