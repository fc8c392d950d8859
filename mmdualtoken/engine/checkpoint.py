"""Reading checkpoints safely, finding the one a run continues from, and
whether one fits a model.

Since torch 2.6, ``torch.load`` refuses any global outside an allow-list
(:func:`mmdualtoken.host_patches.allow_mmengine_checkpoint_types` adds the
types mmengine writes). Here that refusal becomes ours, naming the file and
the offending object, and a truncated or empty file is named as such
instead of torch's ``PytorchStreamReader failed`` or a bare ``EOFError``.
"""
import glob
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import IO, List, Optional, Tuple, Union

import torch
from mmengine.dist import get_dist_info
from mmengine.runner import CheckpointLoader
from torch import nn

from mmdualtoken.errors import CheckpointError, UnsafeCheckpointError


def read_safely(name: str, file: Union[str, IO[bytes]], map_location=None):
    """``torch.load(file, weights_only=True)``, with our errors: code in
    the file is refused (:class:`UnsafeCheckpointError`), a truncated or
    unreadable file is named (:class:`CheckpointError`)."""
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise _refusal(name, error) from None
    except FileNotFoundError:
        raise
    except (EOFError, OSError, zipfile.BadZipFile) as error:
        raise _unreadable(name, error) from None
    except RuntimeError as error:
        if 'PytorchStreamReader' not in str(error):
            raise
        raise _unreadable(name, error) from None


def _refusal(name: str, error: pickle.UnpicklingError) -> CheckpointError:
    """torch's refusal of a global as ours (torch's own message suggests
    an unsafe retry); other unpickling failures mean a damaged file."""
    found = re.search(r'GLOBAL (\S+)', str(error))
    if not found and 'weights_only' not in str(error):
        return _unreadable(name, error)
    offending = found.group(1) if found else str(error).split('\n')[-1]
    return UnsafeCheckpointError(
        f'Refused to load {name}: it holds {offending}, which is not a '
        f'tensor nor a type mmengine saves; such an object can run code '
        f'while the file is read. Ask its author for the weights as a '
        f'plain state dict.')


def _unreadable(name: str, error: Exception) -> CheckpointError:
    detail = str(error).split('\n')[0] or type(error).__name__
    return CheckpointError(
        f'{name} is truncated or not a checkpoint ({detail}): it was '
        f'probably cut short by a kill or a full disk. Use an earlier '
        f'checkpoint; --resume without a path picks the newest complete one.')


def load_from_local_safely(filename: str, map_location=None):
    """mmengine's loader for local files, read by :func:`read_safely`."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return read_safely(filename, filename, map_location)


def load_from_http_safely(filename: str,
                          map_location=None,
                          model_dir: Optional[str] = None,
                          progress: bool = False):
    """mmengine's loader for ``http(s)://`` checkpoints (rank 0 downloads
    first), reading with ``weights_only=True``."""

    def load():
        try:
            return torch.hub.load_state_dict_from_url(
                filename,
                model_dir=model_dir,
                map_location=map_location,
                progress=progress,
                weights_only=True)
        except pickle.UnpicklingError as error:
            raise _refusal(filename, error) from None

    rank, world_size = get_dist_info()
    if rank == 0:
        checkpoint = load()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
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


def is_complete(path: str) -> bool:
    """Whether ``path`` is a whole checkpoint as ``torch.save`` writes it:
    a zip archive ends with its directory, which a cut-short file lacks."""
    return osp.isfile(path) and zipfile.is_zipfile(path)


def checkpoints_in(work_dir: str) -> List[str]:
    """The checkpoint files of a work dir (and of its sub-folders, for a
    ``filename_tmpl`` with one), newest first; hidden partial files are
    left out."""
    found = [
        path for pattern in ('*.pth', '*/*.pth')
        for path in glob.glob(osp.join(work_dir, pattern)) if osp.isfile(path)
    ]
    return sorted(
        found, key=lambda p: (os.stat(p).st_mtime_ns, p), reverse=True)


def latest_checkpoint(work_dir: str) -> Tuple[Optional[str], List[str]]:
    """The checkpoint ``--resume`` continues from, and the newer files it
    passed over because they are incomplete.

    That is the file ``last_checkpoint`` names if it is complete, else the
    newest complete checkpoint of the work dir, else None.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and is_complete(named):
            return named, []
    skipped = [named] if named and osp.isfile(named) else []
    for path in checkpoints_in(work_dir):
        if is_complete(path):
            return path, skipped
        if path not in skipped:
            skipped.append(path)
    return None, skipped


# --- whether a checkpoint fits a model --------------------------------------


def _mismatches(model: nn.Module, state: dict) -> tuple:
    while hasattr(model, 'module'):  # DDP and TTA wrappers
        model = model.module
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f'{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}'
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape)
    return expected, missing, unexpected, mismatched


def _summary(kind: str, names: list) -> str:
    shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
    return f'{len(names)} {kind}: {shown}'


def _misfit_error(checkpoint: str, missing, unexpected,
                  mismatched) -> CheckpointError:
    problems = [
        _summary(kind, names)
        for kind, names in [('missing keys',
                             missing), ('unexpected keys', unexpected),
                            ('shape mismatches (checkpoint vs model)',
                             mismatched)] if names
    ]
    return CheckpointError(
        f'{checkpoint} does not fit the model of this config: ' +
        '; '.join(problems) + '. Is it a checkpoint of this config\'s '
        'variant and task (e.g. T vs S, a classifier vs a detector)?')


def check_checkpoint_fits(model: nn.Module,
                          checkpoint: str,
                          exact: bool,
                          max_mismatch: float = 0.1) -> None:
    """Stops before training when ``load_from`` or ``--resume`` names a
    checkpoint of another model: a resume must fit exactly, ``load_from``
    may miss or reshape at most ``max_mismatch`` of the model's weights (a
    new head), as the backbone's ``Pretrained`` check allows."""
    state = weights_of(
        CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu'))
    expected, missing, unexpected, mismatched = _mismatches(model, state)
    unfit = (len(missing) + len(mismatched)) / max(len(expected), 1)
    if (exact and (missing or mismatched)) or unfit > max_mismatch:
        raise _misfit_error(checkpoint, missing, unexpected, mismatched)


def load_weights_strictly(model: nn.Module, checkpoint: str) -> None:
    """Loads a checkpoint that must fit the model exactly.

    Accepts what mmengine's loader accepts (local paths, URLs,
    ``open-mmlab://``-style prefixes) holding a state dict, as is or under
    ``state_dict`` or ``model``, with or without ``module.`` prefixes. Any
    missing, unexpected or mis-shaped key stops with a short summary, as a
    test of the wrong weights would only print chance-level metrics.
    """
    state = weights_of(
        CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu'))
    _, missing, unexpected, mismatched = _mismatches(model, state)
    if missing or unexpected or mismatched:
        raise _misfit_error(checkpoint, missing, unexpected, mismatched)
    while hasattr(model, 'module'):
        model = model.module
    model.load_state_dict(state)
