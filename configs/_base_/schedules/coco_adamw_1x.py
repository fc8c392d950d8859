# mmdet's 1x schedule (12 epochs, lr steps at 8 and 11, 500 warm-up
# iterations) with AdamW lr 2e-4 and weight decay 0.04, none on norms and
# global tokens (LightViT's detection recipe, which DualToken-ViT follows).
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'

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
