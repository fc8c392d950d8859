# What the ADE20K configs share besides their model: mmseg's ADE20K data
# (4 images a GPU) and runtime, and our 80k-iteration AdamW schedule, with a
# checkpoint every 2,000 iterations (a kill loses at most 2.5 % of the run),
# the last three kept.
_base_ = [
    './datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/ade20k_adamw_80k.py',
]

default_hooks = dict(checkpoint=dict(interval=2000, max_keep_ckpts=3))
