# mmseg's 80k-iteration schedule with AdamW and poly decay, no weight decay
# on norms and global tokens. The paper's own segmentation hyper-parameters
# were not recovered: lr 2e-4, weight decay 0.04 (as for detection), 1500
# linear warm-up iterations and poly power 1.0 are our choices.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py', '../run_protections.py']

# mmseg keeps its default hooks in its schedules: the run protections too.
default_hooks = {{_base_.run_protections}}

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.04),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            '.global_tokens': dict(decay_mult=0.0),
            '.fusion_weights': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=False,
        begin=1500,
        end=80000),
]
