"""One training run per work dir.

Two runs started on the same work dir overwrite each other's checkpoints.
The first run holds ``WORK_DIR/.mmdualtoken.lock`` (its pid, host and start
time); a second one stops before any work, naming them.
"""
import atexit
import json
import os
import os.path as osp
import socket
import time

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmdualtoken.errors import WorkDirBusy
from mmdualtoken.registry import HOOKS

LOCK_NAME = '.mmdualtoken.lock'
GONE_WITHIN = 3  # seconds a killed owner on this host is given to be gone
_held = set()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, killed and not
    yet reaped, does not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def lock_work_dir(work_dir: str, resume: bool = False) -> None:
    """Takes the work dir's lock for this process (again, if it holds it).

    A lock left by a process that no longer runs on this host is taken
    over; one held from another host only with ``resume`` (a job requeued
    onto another node, or a host that went down).

    Raises:
        WorkDirBusy: another run holds the lock.
    """
    path = osp.join(work_dir, LOCK_NAME)
    me = dict(
        pid=os.getpid(),
        host=socket.gethostname(),
        started=time.strftime('%Y-%m-%d %H:%M:%S'))
    os.makedirs(work_dir, exist_ok=True)
    try:
        # Created only if absent: of two runs starting together, one wins.
        with open(path, 'x') as f:
            json.dump(me, f)
    except FileExistsError:
        owner = _owner(path)  # {} if its writer died before writing it
        if (owner.get('pid'), owner.get('host')) != (me['pid'], me['host']):
            _check_stale(work_dir, owner, me['host'], resume)
            partial = f'{path}.{os.getpid()}.part'
            with open(partial, 'w') as f:
                json.dump(me, f)
            os.replace(partial, path)
    if work_dir not in _held:
        _held.add(work_dir)
        atexit.register(unlock_work_dir, work_dir)


def _check_stale(work_dir: str, owner: dict, host: str, resume: bool) -> None:
    """Raises unless the lock's owner is known to be gone (or may be taken
    over: ``resume`` from another host)."""
    if not owner:
        return
    here = owner.get('host') == host
    # A run just killed can take a moment to be gone.
    for _ in range(GONE_WITHIN * 5 if here else 0):
        if not _alive(int(owner.get('pid') or 0)):
            return
        time.sleep(0.2)
    if not here and resume:
        return
    raise WorkDirBusy(
        f'{work_dir} is in use by the run of pid {owner.get("pid")} on '
        f'{owner.get("host")} (since {owner.get("started")}): two runs in one '
        f'work dir overwrite each other\'s checkpoints. Wait for it to end or '
        f'choose another --work-dir' +
        ('' if here else '; if it no longer runs, --resume continues its '
         'checkpoints') + '.')


def _owner(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return {}


def unlock_work_dir(work_dir: str) -> None:
    """Gives the lock back if this process holds it."""
    path = osp.join(work_dir, LOCK_NAME)
    owner = _owner(path)
    if (owner.get('pid'), owner.get('host')) == (os.getpid(),
                                                 socket.gethostname()):
        os.remove(path)


@HOOKS.register_module()
class WorkDirLockHook(Hook):
    """Holds the work dir's lock (:func:`lock_work_dir`) from the start of
    a training run to its end; rank 0 takes it for all ranks."""

    priority = 'HIGHEST'

    def before_train(self, runner) -> None:
        if is_main_process():
            lock_work_dir(runner.work_dir, bool(runner.cfg.get('resume')))

    def after_train(self, runner) -> None:
        if is_main_process():
            unlock_work_dir(runner.work_dir)
