"""Checkpoints that a kill, a full disk or a stranger's checkpoint cannot
lose.

mmengine's ``CheckpointHook`` deletes the oldest kept checkpoint *before*
writing the new one, writes the new one in place and then points
``last_checkpoint`` at it: a kill during the write (with
``max_keep_ckpts=1``) leaves no usable checkpoint. A checkpoint it resumes
from also names, in its message hub, the files the hook deletes later
(``best_ckpt``, ``keep_ckpt_ids``), wherever they are.

:class:`AtomicCheckpointHook` is that hook with its file operations sent to
:class:`AtomicLocalBackend`, through the hook's public ``backend_args``:
writes go to a hidden ``.NAME.part`` file renamed once complete, and
removals wait until the hook's save is over (new file and pointer written),
and never reach outside the checkpoint folder.
"""
import difflib
import errno
import glob
import inspect
import logging
import os
import os.path as osp
import re
import shutil
from pathlib import Path
from typing import List, Optional, Union

from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmdualtoken.errors import CheckpointError
from mmdualtoken.registry import HOOKS

ATOMIC_BACKEND = 'mmdualtoken_atomic_local'
PREEMPTED_TMPL = 'preempted_iter_{}.pth'


def partial_path(path: str) -> str:
    """Where a file is written before it is renamed to ``path``."""
    return osp.join(osp.dirname(path), f'.{osp.basename(path)}.part')


def write_atomically(data: Union[bytes, str], path: str) -> None:
    """Writes ``data`` to ``path`` so that a reader finds the old content or
    the new, never a part: a file beside it, flushed to disk, then renamed.

    Raises:
        CheckpointError: the disk is full (or another OS error); the
            partial file is removed and ``path`` is untouched.
    """
    partial = partial_path(path)
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    try:
        with open(partial, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except OSError as error:
        if osp.exists(partial):
            os.remove(partial)
        if error.errno != errno.ENOSPC:
            raise
        free = shutil.disk_usage(osp.dirname(path) or '.').free
        full = CheckpointError(
            f'No space left on the device while writing {path} '
            f'({len(data) / 2**20:.0f} MB, {free / 2**20:.0f} MB free): '
            f'nothing was replaced, the checkpoints already there are kept. '
            f'Free some space, then continue with --resume.')
        full.errno = errno.ENOSPC
        raise full from None


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, with whole-file writes and deferred,
    confined removals.

    ``put`` / ``put_text`` write through :func:`write_atomically`.
    ``remove`` / ``rmtree`` only record the path; :meth:`flush_removals`
    then removes what lies inside ``root`` and refuses the rest.
    """

    def __init__(self, root: Optional[str] = None):
        super().__init__()
        self.root = root
        self.pending: List[str] = []

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, str(filepath))

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), str(filepath))

    def remove(self, filepath: Union[str, Path]) -> None:
        self.pending.append(str(filepath))

    def rmtree(self, dir_path: Union[str, Path]) -> None:
        self.pending.append(str(dir_path))

    def inside_root(self, path: str) -> bool:
        if self.root is None:
            return False
        root = osp.realpath(self.root)
        return osp.commonpath([root, osp.realpath(path)]) == root

    def flush_removals(self) -> None:
        """Removes the recorded paths that lie inside ``root``."""
        pending, self.pending = self.pending, []
        for path in pending:
            if not self.inside_root(path):
                print_log(
                    f'Refused to remove {path}: it is outside the checkpoint '
                    f'folder {self.root} (a resumed checkpoint named it).',
                    'current', logging.WARNING)
            elif osp.isdir(path) and not osp.islink(path):
                shutil.rmtree(path)
            elif osp.lexists(path):
                os.remove(path)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


def _steps_of(template: str, out_dir: str) -> dict:
    """{step: path} of the files in ``out_dir`` named by ``template``."""
    pattern = re.compile(re.escape(template).replace(r'\{\}', r'(\d+)') + '$')
    found = {}
    for path in glob.glob(osp.join(out_dir, template.replace('{}', '*'))):
        match = pattern.search(osp.relpath(path, out_dir))
        if match:
            found[int(match.group(1))] = path
    return found


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments), whose checkpoints no
    kill, full disk or resumed checkpoint can lose.

    - A checkpoint is written under a hidden name and renamed once
      complete; ``last_checkpoint`` is updated after it, and only then are
      checkpoints beyond ``max_keep_ckpts`` removed.
    - A full disk stops the run with a message, the checkpoints already
      there intact.
    - Paths that a resumed checkpoint names for removal (``best_ckpt``,
      ``keep_ckpt_ids``) are honoured only inside the checkpoint folder.
    - At the start, partial files left by a kill are removed, and so are
      checkpoints that a kill left beyond ``max_keep_ckpts`` and those a
      signal wrote (:class:`~mmdualtoken.engine.PreemptionHook`) once a
      newer checkpoint exists.
    - A new run (not ``resume``) in a folder that holds the checkpoints of
      an earlier run stops before training: it would overwrite them as it
      reaches their names. ``overwrite_earlier_run=True`` lets it.
    - A mistyped argument stops the run when the hook is built, not at
      the first save (``CheckpointHook`` passes unknown ones on).

    Checkpoints go to a local folder; with ``backend_args`` or an
    ``out_dir`` of another storage, the hook behaves as mmengine's.

    Args:
        overwrite_earlier_run (bool): Let a new run write over the
            checkpoints an earlier run left in its folder. Defaults to
            False.
        *args, **kwargs: mmengine's ``CheckpointHook`` arguments.
    """

    def __init__(self, *args, overwrite_earlier_run: bool = False, **kwargs):
        self.overwrite_earlier_run = overwrite_earlier_run
        out_dir = kwargs.get('out_dir') or (args[4] if len(args) > 4 else None)
        self.atomic = (
            kwargs.get('backend_args') is None
            and kwargs.get('file_client_args') is None
            and '://' not in str(out_dir or ''))
        if self.atomic:
            kwargs['backend_args'] = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, **kwargs)
        accepted = inspect.signature(Runner.save_checkpoint).parameters
        known = inspect.signature(CheckpointHook.__init__).parameters
        for name in self.args:
            if name not in accepted:
                close = difflib.get_close_matches(name, known, n=1)
                raise TypeError(
                    f'default_hooks.checkpoint: unknown argument {name!r}' +
                    (f'; did you mean {close[0]!r}?' if close else '.'))

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not self.atomic:
            return
        self.file_backend.root = self.out_dir
        self._refuse_to_overwrite(runner)
        self._forget_paths_outside(runner)
        if is_main_process():
            self._remove_leftovers(runner)
        self._flush(runner)

    def _refuse_to_overwrite(self, runner) -> None:
        """Stops a new run whose checkpoint names are taken by an earlier
        run's files (every rank stops: rank 0 looks, all agree)."""
        if self.overwrite_earlier_run or runner.cfg.get('resume'):
            return
        found = [None]
        if is_main_process():
            found[0] = sorted(
                osp.relpath(path, self.out_dir)
                for template in (self.filename_tmpl, PREEMPTED_TMPL)
                for path in _steps_of(template, self.out_dir).values())
        broadcast_object_list(found)
        if found[0]:
            shown = ', '.join(
                found[0][:3]) + (', ...' if len(found[0]) > 3 else '')
            raise CheckpointError(
                f'{self.out_dir} holds the checkpoints of an earlier run '
                f'({len(found[0])}: {shown}), which this new run would '
                f'overwrite. Continue that run with --resume, start this one '
                f'in another folder (--work-dir DIR), or let it overwrite '
                f'them: --cfg-options '
                f'default_hooks.checkpoint.overwrite_earlier_run=True.')

    def _forget_paths_outside(self, runner) -> None:
        """Drops the resumed ``best_ckpt`` paths outside the folder and any
        ``keep_ckpt_ids`` that are not step numbers."""
        named = {'best_ckpt': self.best_ckpt_path} if self.save_best else {}
        for key, path in getattr(self, 'best_ckpt_path_dict', {}).items():
            named[f'best_ckpt_{key}'] = path
        for name, path in named.items():
            if path and not self.file_backend.inside_root(path):
                print_log(
                    f'Ignored {name}={path} of the resumed checkpoint: it is '
                    f'outside the checkpoint folder {self.out_dir}.',
                    'current', logging.WARNING)
                if name == 'best_ckpt':
                    self.best_ckpt_path = None
                else:
                    self.best_ckpt_path_dict[name[len('best_ckpt_'):]] = None
                runner.message_hub.runtime_info.pop(name, None)
        if self.max_keep_ckpts > 0:
            steps = [s for s in self.keep_ckpt_ids if isinstance(s, int)]
            if len(steps) != len(self.keep_ckpt_ids):
                self.keep_ckpt_ids.clear()
                self.keep_ckpt_ids.extend(steps)
                runner.message_hub.update_info('keep_ckpt_ids', steps)

    def _remove_leftovers(self, runner) -> None:
        for pattern in ('.*.part', '*/.*.part'):
            for path in glob.glob(osp.join(self.out_dir, pattern)):
                print_log(
                    f'Removing {path}, the partial file of a write that '
                    'was cut short.', 'current')
                self.file_backend.remove(path)
        if self.max_keep_ckpts > 0 and self.keep_ckpt_ids:
            newest = max(self.keep_ckpt_ids)
            for step, path in _steps_of(self.filename_tmpl,
                                        self.out_dir).items():
                if step < newest and step not in self.keep_ckpt_ids:
                    print_log(
                        f'Removing {path}: beyond max_keep_ckpts='
                        f'{self.max_keep_ckpts} (left by a kill).', 'current')
                    self.file_backend.remove(path)

    def _flush(self, runner) -> None:
        """Once a save is complete: removes the checkpoints it outdated,
        the older signal checkpoints included."""
        if not (self.atomic and is_main_process()):
            return
        saved = getattr(self, 'last_ckpt', None)
        if saved and saved != getattr(self, '_flushed_ckpt', None):
            self._flushed_ckpt = saved
            written = os.stat(saved).st_mtime_ns
            for path in _steps_of(PREEMPTED_TMPL, self.out_dir).values():
                if os.stat(path).st_mtime_ns < written:
                    self.file_backend.remove(path)
        self.file_backend.flush_removals()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self._flush(runner)

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        self._flush(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        super().after_val_epoch(runner, metrics)
        self._flush(runner)

    def after_train(self, runner) -> None:
        super().after_train(runner)
        self._flush(runner)
