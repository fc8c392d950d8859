# The schedule of ./toy-coco_6e.py for 8 epochs: a dense head learns the toy
# classes more slowly than Mask R-CNN's RoI head. mmengine reads each file
# once, so the cosine that ends with the run is written for its length.
_base_ = './toy-coco_6e.py'

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    {{_base_.toy_warmup}},
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
