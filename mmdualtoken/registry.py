"""The ``mmdualtoken`` registry scope.

Its registries are children of mmengine's roots, beside mmpretrain's,
mmdet's and mmseg's, so a config under any of those default scopes can name
``type='mmdualtoken.DualTokenViT'`` (or ``mmdualtoken.AtomicCheckpointHook``
...) once ``mmdualtoken`` is imported
(``custom_imports = dict(imports=['mmdualtoken'])``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry


def _scoped(parent: Registry, *locations: str) -> Registry:
    """A child of one of mmengine's registries in the mmdualtoken scope."""
    return Registry(
        parent.name,
        parent=parent,
        scope='mmdualtoken',
        locations=list(locations))


MODELS = _scoped(MMENGINE_MODELS, 'mmdualtoken.models')
MODEL_WRAPPERS = _scoped(MMENGINE_MODEL_WRAPPERS, 'mmdualtoken.engine')
HOOKS = _scoped(MMENGINE_HOOKS, 'mmdualtoken.engine', 'mmdualtoken.datasets')
DATA_SAMPLERS = _scoped(MMENGINE_DATA_SAMPLERS, 'mmdualtoken.engine')
TRANSFORMS = _scoped(MMENGINE_TRANSFORMS, 'mmdualtoken.engine',
                     'mmdualtoken.datasets')
