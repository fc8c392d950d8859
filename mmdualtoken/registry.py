"""The ``mmdualtoken`` registry scope.

Its model registry is a child of mmengine's root, beside mmpretrain's,
mmdet's and mmseg's, so a config under any of those default scopes can name
``type='mmdualtoken.DualTokenViT'`` once ``mmdualtoken`` is imported
(``custom_imports = dict(imports=['mmdualtoken'])``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmdualtoken',
    locations=['mmdualtoken.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    scope='mmdualtoken',
    locations=['mmdualtoken.engine'])
HOOKS = Registry(
    'hook',
    parent=MMENGINE_HOOKS,
    scope='mmdualtoken',
    locations=['mmdualtoken.engine'])
DATASETS = Registry(
    'dataset',
    parent=MMENGINE_DATASETS,
    scope='mmdualtoken',
    locations=['mmdualtoken.engine'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    scope='mmdualtoken',
    locations=['mmdualtoken.engine'])
