# mmpretrain's runtime with the run protections of ./run_protections.py.
# mmengine tags each dict of an `mmpretrain::` base with `_scope_`, which
# mmpretrain's tools/visualization/browse_dataset.py passes on to the
# visualizer's constructor: the visualizer is restated here without it.
_base_ = ['mmpretrain::_base_/default_runtime.py', './run_protections.py']

default_hooks = {{_base_.run_protections}}
visualizer = dict(
    _delete_=True,
    type='mmpretrain.UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])
