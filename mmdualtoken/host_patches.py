"""Every change ``import mmdualtoken`` makes to mmengine and torch, in one
place. Checked on mmengine 0.10.6 and 0.10.7 with torch 2.11 to 2.14.

1. **Safe checkpoint loading.** mmengine 0.10 reads local files with plain
   ``torch.load`` and URLs and model-zoo names with
   ``weights_only=False``, so a checkpoint from a stranger can run code
   when it is loaded. Each checkpoint scheme mmengine registers
   (``CheckpointLoader``'s public ``register_scheme``) is re-registered
   with a loader that reads with ``weights_only=True`` and refuses code
   with a message of ours; schemes we cannot read safely (``pavi://``, or
   one a plugin registered) are refused. torch's allow-list gets the types
   mmengine itself writes (``torch.serialization.add_safe_globals``), so
   mmengine's own checkpoints still load. ``MMDUALTOKEN_SAFE_LOADING=0``
   in the environment, or :func:`use_safe_loading` (``False``), leaves or
   puts back mmengine's loaders; the allow-list stays, it only widens what
   loads safely.
2. **``mmdualtoken::`` config paths.** mmengine resolves ``pkg::`` only for
   the packages of its ``MODULE2PACKAGE`` table, and finds the package
   through its distribution's location, which for an editable install is
   site-packages, not the checkout. The table gets ``mmdualtoken``, and
   ``mmengine.config.config.get_installed_path`` answers this package's
   directory for it (other packages as before).
3. **Dataloader workers live through a stop signal.** torch's dataloader
   workers set a SIGTERM handler of their own when they start (in C): a
   SIGTERM from any process but their parent kills them. torchrun and
   Slurm signal a rank's whole process group, so the workers died and took
   the run down before :class:`~mmdualtoken.engine.PreemptionHook` could
   save. Dataloader workers move to a process group of their own
   (``torch.utils.data._utils.signal_handling.
   _set_worker_signal_handlers``, which the worker loop calls, then also
   calls ``os.setpgid(0, 0)``): a signal to the rank's group no longer
   reaches them, while their parent still stops them by pid, and they
   still end when it dies. DataLoader has no public way to
   this: its ``worker_init_fn`` is mmengine's, which seeds the workers.

4. **``None`` turns off any default hook.** mmengine's
   ``Runner.register_default_hooks`` removes a hook set to ``None`` only
   for its own six names and fails with a bare ``AssertionError`` on any
   other, so ``default_hooks.divergence=None`` (what our configs and
   messages tell users) could not turn off one of ours. The method drops
   such entries first and leaves mmengine's own to it. A config has no
   public way to remove one key of ``default_hooks``.

Nothing else is touched. If mmengine moves what is patched here, import
fails with :class:`HostChangedError` naming the piece, instead of loading
checkpoints unsafely or resolving configs wrongly.
"""
import io
import os
import os.path as osp
from typing import Callable, Dict

import mmengine
import numpy as np
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as ckpt_utils

from .engine.checkpoint import (load_from_http_safely, load_from_local_safely,
                                read_safely)
from .errors import UnsafeCheckpointError

PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
CHECKED_MMENGINE = ('0.10.6', '0.10.7')
CHECKED_TORCH = '2.11 to 2.14'


class HostChangedError(ImportError):
    """mmengine no longer has what a patch of this module relies on."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise HostChangedError(
            f'mmdualtoken patches {what}, checked on mmengine '
            f'{" and ".join(CHECKED_MMENGINE)} with torch {CHECKED_TORCH}; '
            f'mmengine {mmengine.__version__} with torch {torch.__version__} '
            f'changed it. Install mmengine {CHECKED_MMENGINE[-1]} or update '
            f'mmdualtoken/host_patches.py.')


# --- 1. Safe checkpoint loading ---------------------------------------------

_MODEL_ZOO = ('open-mmlab://', 'openmmlab://', 'torchvision://', 'modelzoo://',
              'mmcls://')
_OBJECT_STORES = (r'(\S+\:)?s3://', r'(\S+\:)?petrel://')


def load_from_model_zoo_safely(filename: str, map_location=None):
    """mmengine's model-zoo names, resolved as mmengine resolves them (its
    model lists, with a user's ``$MMENGINE_HOME/open_mmlab.json``), read
    with ``weights_only=True``."""
    prefix, name = filename.split('://', 1)
    if prefix in ('open-mmlab', 'openmmlab'):
        name = ckpt_utils.get_deprecated_model_names().get(name, name)
        url = ckpt_utils.get_external_models()[name]
    elif prefix in ('torchvision', 'modelzoo'):
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


def load_from_object_store_safely(filename: str, map_location=None):
    """``s3://`` and ``petrel://`` files, fetched through mmengine's file
    backend and read with ``weights_only=True``."""
    data = get_file_backend(
        filename, backend_args=dict(backend='petrel')).get(filename)
    return read_safely(filename, io.BytesIO(data), map_location)


def _refuse(prefix: str) -> Callable:

    def refuse(filename: str, map_location=None):
        raise UnsafeCheckpointError(
            f'Refused to load {filename}: mmdualtoken has no safe loader for '
            f'{prefix!r} checkpoints (their loader reads with '
            f'weights_only=False, so the file could run code). Download it '
            f'and pass its local path, or set MMDUALTOKEN_SAFE_LOADING=0 if '
            f'you trust its source.')

    refuse.refuses = prefix
    return refuse


def _safe_loader(prefix: str) -> Callable:
    if prefix == '':
        return load_from_local_safely
    if prefix in ('http://', 'https://'):
        return load_from_http_safely
    if prefix in _MODEL_ZOO:
        return load_from_model_zoo_safely
    if prefix in _OBJECT_STORES:
        return load_from_object_store_safely
    return _refuse(prefix)


_mmengine_loaders: Dict[str, Callable] = {}


def use_safe_loading(enabled: bool = True) -> None:
    """Routes every checkpoint scheme known now through a safe loader (or a
    refusal), or puts mmengine's own loaders back (``enabled=False``)."""
    schemes = getattr(CheckpointLoader, '_schemes', None)
    _require(
        isinstance(schemes, dict) and '' in schemes,
        'CheckpointLoader._schemes (the registered checkpoint schemes)')
    if not _mmengine_loaders:
        _mmengine_loaders.update(schemes)
    for prefix in list(_mmengine_loaders):
        loader = _safe_loader(prefix) if enabled else _mmengine_loaders[prefix]
        CheckpointLoader.register_scheme(prefix, loader, force=True)


# The statistics every HistoryBuffer holds (``_set_default_statistics``).
_DEFAULT_STATISTICS = ('mean', 'max', 'min', 'current')
_NUMPY_CORE = getattr(np, '_core', None) or np.core


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as the unpickler may use it: HistoryBuffer methods only."""
    if obj is HistoryBuffer and (name in _DEFAULT_STATISTICS
                                 or name in HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'Refused getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics are allowed.')


def allow_mmengine_checkpoint_types() -> None:
    """Adds to torch's allow-list exactly what mmengine's checkpoints hold
    besides tensors: its message hub's ``HistoryBuffer`` objects, numpy
    arrays and scalars, and ``getattr`` of HistoryBuffer's statistics
    methods (they are pickled that way)."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 has no allow-list
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


# --- 2. mmdualtoken:: config paths ------------------------------------------


def register_config_package() -> None:
    """Makes ``mmdualtoken::PATH`` resolve to ``.mim/configs/PATH`` in this
    package's directory, whatever the install (idempotent)."""
    from mmengine.config import config, utils
    _require(
        isinstance(getattr(utils, 'MODULE2PACKAGE', None), dict)
        and callable(getattr(config, 'get_installed_path', None)),
        'mmengine.config.utils.MODULE2PACKAGE and '
        'mmengine.config.config.get_installed_path (the pkg:: lookup)')
    utils.MODULE2PACKAGE.setdefault('mmdualtoken', 'mmdualtoken')
    lookup = config.get_installed_path
    if getattr(lookup, 'knows_mmdualtoken', False):
        return

    def get_installed_path(package: str) -> str:
        return PACKAGE_DIR if package == 'mmdualtoken' else lookup(package)

    get_installed_path.knows_mmdualtoken = True
    config.get_installed_path = get_installed_path


# --- 3. Dataloader workers through a stop signal -----------------------------
def dataloader_workers_in_own_group() -> None:
    """Dataloader workers started from now on run in a process group of
    their own; see 3. in the module's docstring (idempotent)."""
    from torch.utils.data._utils import signal_handling, worker
    set_handlers = getattr(signal_handling, '_set_worker_signal_handlers',
                           None)
    _require(
        callable(set_handlers)
        and getattr(worker, 'signal_handling', None) is signal_handling,
        "torch.utils.data's _set_worker_signal_handlers (called by the "
        'dataloader worker loop)')
    if getattr(set_handlers, 'own_process_group', False):
        return

    def set_worker_signal_handlers(*args, **kwargs):
        set_handlers(*args, **kwargs)
        os.setpgid(0, 0)

    set_worker_signal_handlers.own_process_group = True
    signal_handling._set_worker_signal_handlers = set_worker_signal_handlers


# The hooks mmengine's Runner registers unless told otherwise: for these it
# handles None itself (by not registering its default).
MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                          'param_scheduler', 'checkpoint')


def default_hooks_off_by_none() -> None:
    """A default hook of any name set to None is not registered; see 4. in
    the module's docstring (idempotent)."""
    from mmengine.runner import Runner
    register = Runner.register_default_hooks
    _require(callable(register), "mmengine's Runner.register_default_hooks")
    if getattr(register, 'off_by_none', False):
        return

    def register_default_hooks(self, hooks=None):
        if hooks is not None:
            hooks = {
                name: hook
                for name, hook in hooks.items()
                if hook is not None or name in MMENGINE_DEFAULT_HOOKS
            }
        return register(self, hooks)

    register_default_hooks.off_by_none = True
    Runner.register_default_hooks = register_default_hooks


def apply() -> None:
    """What ``import mmdualtoken`` runs, once per process (idempotent)."""
    allow_mmengine_checkpoint_types()
    use_safe_loading(os.environ.get('MMDUALTOKEN_SAFE_LOADING', '1') != '0')
    register_config_package()
    dataloader_workers_in_own_group()
    default_hooks_off_by_none()
