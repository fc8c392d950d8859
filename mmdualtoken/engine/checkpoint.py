"""Safe checkpoint loading: mmengine's own checkpoints load under
``torch.load(weights_only=True)``, and anything else that a pickle could
carry is refused with a message of ours.

Since torch 2.6, ``torch.load`` refuses any global outside an allow-list.
mmengine 0.10.7 loads local files with plain ``torch.load`` and saves its
message hub in every checkpoint: ``HistoryBuffer`` objects, numpy arrays and
scalars, and the buffers' statistics methods, pickled as
``getattr(HistoryBuffer, 'mean')``. So ``--resume``, ``load_from`` and
``Pretrained`` fail on checkpoints mmengine wrote. Instead of turning the
check off, this allows exactly those types, and ``getattr`` only for
``HistoryBuffer``'s statistics methods.
"""
import os.path as osp
import pickle
import re
from typing import Any, Callable, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as ckpt_utils

_NUMPY_CORE = getattr(np, '_core', None) or np.core
# The statistics every HistoryBuffer holds (``_set_default_statistics``).
_DEFAULT_STATISTICS = ('mean', 'max', 'min', 'current')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holding objects that could run code when loaded."""


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as the unpickler may use it: HistoryBuffer methods only."""
    if obj is HistoryBuffer and (name in _DEFAULT_STATISTICS
                                 or name in HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'Refused getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics are allowed.')


def _refuse_code(filename: str, load: Callable[[], Any]) -> Any:
    """Runs ``load`` (a ``weights_only=True`` load) and turns torch's
    refusal into ours, which names the file and the offending object."""
    try:
        return load()
    except pickle.UnpicklingError as error:
        found = re.search(r'GLOBAL (\S+)', str(error))
        offending = found.group(1) if found else str(error).split('\n')[-1]
        # `from None`: torch's own message suggests an unsafe retry.
        raise UnsafeCheckpointError(
            f'Refused to load {filename}: it holds {offending}, which is '
            f'not a tensor nor a type mmengine saves; such an object can run '
            f'code while the file is read. Ask its author for the weights '
            f'as a plain state dict.') from None


def load_from_local_safely(filename: str, map_location=None):
    """mmengine's loader for local files, with ``weights_only=True`` and a
    refusal that names the file and the offending object.

    Registered for local paths, so ``tools/test.py``, ``--resume``,
    ``load_from`` and ``Pretrained`` all load through it.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return _refuse_code(
        filename, lambda: torch.load(
            filename, map_location=map_location, weights_only=True))


def load_from_http_safely(filename: str,
                          map_location=None,
                          model_dir: Optional[str] = None,
                          progress: bool = False):
    """mmengine's loader for ``http(s)://`` checkpoints (rank 0 downloads
    first), reading with ``weights_only=True``: mmengine's own reads URLs
    with torch.hub's default, ``weights_only=False``."""

    def load():
        return _refuse_code(
            filename, lambda: torch.hub.load_state_dict_from_url(
                filename,
                model_dir=model_dir,
                map_location=map_location,
                progress=progress,
                weights_only=True))

    rank, world_size = get_dist_info()
    if rank == 0:
        checkpoint = load()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
    return checkpoint


def load_from_model_zoo_safely(filename: str, map_location=None):
    """mmengine's ``open-mmlab://``, ``openmmlab://``, ``torchvision://``
    and ``mmcls://`` names, resolved as mmengine resolves them (its model
    lists, with a user's ``$MMENGINE_HOME/open_mmlab.json``), then read as
    above: mmengine's own resolvers read with ``weights_only=False``."""
    prefix, name = filename.split('://', 1)
    if prefix in ('open-mmlab', 'openmmlab'):
        name = ckpt_utils.get_deprecated_model_names().get(name, name)
        url = ckpt_utils.get_external_models()[name]
    elif prefix == 'torchvision':
        url = ckpt_utils.get_torchvision_models()[name]
    else:
        url = ckpt_utils.get_mmcls_models()[name]
    if url.startswith(('http://', 'https://')):
        checkpoint = load_from_http_safely(url, map_location)
    else:
        checkpoint = load_from_local_safely(
            osp.join(ckpt_utils._get_mmengine_home(), url), map_location)
    if prefix == 'mmcls':
        checkpoint = ckpt_utils._process_mmcls_checkpoint(checkpoint)
    return checkpoint


def weights_of(checkpoint: dict, prefix: str = '') -> dict:
    """The state dict inside a loaded checkpoint: the checkpoint itself or
    its ``state_dict`` / ``model`` entry, without DDP's ``module.``
    prefixes; given ``prefix`` (e.g. ``'backbone.'``), only the keys under
    it, with the prefix removed."""
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    state = {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in checkpoint.items()
    }
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
    return state


def allow_mmengine_checkpoint_types() -> None:
    """Adds the types mmengine writes to torch's safe globals and loads
    local checkpoints through :func:`load_from_local_safely` (idempotent).
    Torch releases before 2.4 have no allow-list and load these files as
    they are."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'),
        loader=load_from_http_safely,
        force=True)
    CheckpointLoader.register_scheme(
        prefixes=('open-mmlab://', 'openmmlab://', 'torchvision://',
                  'mmcls://'),
        loader=load_from_model_zoo_safely,
        force=True)
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return
    # The scalar types, not their names: some names are deprecated aliases.
    dtypes = {type(np.dtype(scalar)) for scalar in np.sctypeDict.values()}
    torch.serialization.add_safe_globals([
        HistoryBuffer, _NUMPY_CORE.multiarray._reconstruct,
        _NUMPY_CORE.multiarray.scalar, np.ndarray, np.dtype, *dtypes
    ])
    try:  # the (object, name) form exists from torch 2.5 on
        torch.serialization.add_safe_globals([
            (_history_buffer_getattr, 'builtins.getattr'),
            # Checkpoints written under numpy 1.x name numpy.core.
            (_NUMPY_CORE.multiarray._reconstruct,
             'numpy.core.multiarray._reconstruct'),
            (_NUMPY_CORE.multiarray.scalar, 'numpy.core.multiarray.scalar'),
        ])
    except (TypeError, AttributeError):
        pass
