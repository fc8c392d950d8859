# Mask R-CNN 1x on COCO with the default variant, DualToken-ViT-S.
_base_ = './maskrcnn_dt_vit_s_8xb2_1x_coco.py'
