# mmpretrain's runtime. mmengine tags each dict of an `mmpretrain::` base
# with `_scope_`, which mmpretrain's tools/visualization/browse_dataset.py
# passes on to the visualizer's constructor: the visualizer is restated here
# without it.
_base_ = 'mmpretrain::_base_/default_runtime.py'

visualizer = dict(
    _delete_=True,
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])
