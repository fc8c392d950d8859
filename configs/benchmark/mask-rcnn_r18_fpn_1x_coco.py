# The ResNet-18 baseline that benchmark_train.py compares our Mask R-CNN
# with: mmdet's Mask R-CNN R-50 1x with a ResNet-18 (as in mmdet's own
# mask-rcnn_r18_fpn_8xb8-amp-lsj-200e_coco.py), random weights.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512]))
