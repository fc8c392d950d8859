"""Checkpoints that a kill at any moment cannot lose."""
import difflib
import inspect
import os
import os.path as osp
import re
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from mmdualtoken.registry import HOOKS


def _write_atomically(path: str, text: str) -> None:
    partial = f'{path}.part'
    with open(partial, 'w') as f:
        f.write(text)
    os.replace(partial, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, reordered so that no kill loses work.

    mmengine deletes the oldest kept checkpoint *before* writing the new
    one, writes the new one in place and then points ``last_checkpoint``
    at it: a kill during the write (with ``max_keep_ckpts=1``) leaves no
    usable checkpoint and a pointer to a deleted file. Here the checkpoint
    is written to a hidden ``.NAME.part`` file and renamed once complete,
    ``last_checkpoint`` is replaced (also by rename) after that, and only
    then are checkpoints beyond ``max_keep_ckpts`` removed. Arguments are
    ``CheckpointHook``'s; the tools use it in its place for local work
    dirs. A mistyped argument stops the run when the hook is built, not at
    the first save (``CheckpointHook`` passes unknown ones on to it).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        accepted = inspect.signature(Runner.save_checkpoint).parameters
        known = inspect.signature(CheckpointHook.__init__).parameters
        for name in self.args:
            if name not in accepted:
                close = difflib.get_close_matches(name, known, n=1)
                raise TypeError(
                    f'default_hooks.checkpoint: unknown argument {name!r}' +
                    (f'; did you mean {close[0]!r}?' if close else '.'))

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            f'.{filename}.part',
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        os.replace(osp.join(self.out_dir, f'.{filename}.part'), self.last_ckpt)
        _write_atomically(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None:
            path = osp.join(self.out_dir, self.filename_tmpl.format(outdated))
            if osp.isfile(path):
                os.remove(path)


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from: the one named by
    ``last_checkpoint`` if it exists, else the newest complete
    ``epoch_N.pth`` / ``iter_N.pth`` (highest N) in ``work_dir``."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if osp.isfile(named):
            return named
    found = []
    if osp.isdir(work_dir):
        for name in os.listdir(work_dir):
            match = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', name)
            if match:
                found.append((int(match.group(2)), osp.join(work_dir, name)))
    return max(found)[1] if found else None
