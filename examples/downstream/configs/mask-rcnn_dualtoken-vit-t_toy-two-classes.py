# A config of your own project: our toy Mask R-CNN (DualToken-ViT-T) on two
# of the toy COCO's three classes, for one epoch. `mmdualtoken::` finds the
# base inside the installed package; run it with mmdet's own tools through
# `python -m mmdualtoken mmdet train.py THIS_FILE` (see the README).
_base_ = ('mmdualtoken::detection/demo/'
          'mask-rcnn_dualtoken-vit-t_fpn_1xb8-6e_toy-coco.py')

metainfo = dict(classes=('square', 'disc'))
model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=2), mask_head=dict(num_classes=2)))
train_dataloader = dict(dataset=dict(metainfo=metainfo))
val_dataloader = dict(dataset=dict(metainfo=metainfo))
test_dataloader = dict(dataset=dict(metainfo=metainfo))
# One epoch, to try the project out; the base trains for six.
train_cfg = dict(max_epochs=1, val_interval=1)
