"""Lets ``torch.load(weights_only=True)`` read mmengine's own checkpoints.

Since torch 2.6, ``torch.load`` refuses any global outside an allow-list.
mmengine 0.10.7 loads local files with plain ``torch.load`` and saves its
message hub in every checkpoint: ``HistoryBuffer`` objects, numpy arrays and
scalars, and the buffers' statistics methods, pickled as
``getattr(HistoryBuffer, 'mean')``. So ``--resume``, ``load_from`` and
``Pretrained`` fail on checkpoints mmengine wrote. Instead of turning the
check off, this allows exactly those types, and ``getattr`` only for
``HistoryBuffer``'s statistics methods.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_NUMPY_CORE = getattr(np, '_core', None) or np.core
# The statistics every HistoryBuffer holds (``_set_default_statistics``).
_DEFAULT_STATISTICS = ('mean', 'max', 'min', 'current')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as the unpickler may use it: HistoryBuffer methods only."""
    if obj is HistoryBuffer and (name in _DEFAULT_STATISTICS or
                                 name in HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint '
        'with weights_only=True; load it with weights_only=False only if '
        'you trust its source.')


def allow_mmengine_checkpoint_types() -> None:
    """Adds the types mmengine writes to torch's safe globals (idempotent)."""
    dtypes = [type(np.dtype(name)) for name in np.sctypeDict
              if isinstance(name, str)]
    torch.serialization.add_safe_globals([
        HistoryBuffer, _NUMPY_CORE.multiarray._reconstruct,
        _NUMPY_CORE.multiarray.scalar, np.ndarray, np.dtype, *set(dtypes),
        (_history_buffer_getattr, 'builtins.getattr')
    ])
