# The toy COCO's short schedule: the optimizer of ./coco_adamw_1x.py for 6
# epochs of 50 iterations at a 10x higher lr (from scratch, for so few
# iterations), 50 warm-up iterations, then cosine.
_base_ = './coco_adamw_1x.py'

optim_wrapper = dict(optimizer=dict(lr=2e-3))
max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
toy_warmup = dict(
    type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50)
param_scheduler = [
    toy_warmup,
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
randomness = dict(seed=0)
