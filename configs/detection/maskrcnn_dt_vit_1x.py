# Short alias: Mask R-CNN 1x on COCO with the default variant, DualToken-ViT-S
# (`tools/dist_train.sh configs/detection/maskrcnn_dt_vit_1x.py 8`).
_base_ = './mask-rcnn_dualtoken-vit-s_fpn_8xb2-1x_coco.py'
