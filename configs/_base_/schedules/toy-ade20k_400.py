# The toy ADE20K's short schedule: the optimizer of ./ade20k_adamw_80k.py
# for 400 iterations, 30 of them warm-up, poly decay, a 20x higher lr (from
# scratch, for so few iterations).
_base_ = './ade20k_adamw_80k.py'

max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=4e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=30),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=False,
        begin=30,
        end=max_iters),
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    # tools/test.py --show-dir paints every image of the small toy set
    # (mmseg's default: one in 50)
    visualization=dict(interval=1))
randomness = dict(seed=0)
