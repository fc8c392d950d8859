"""Preemption and time limits lose no work.

Slurm sends SIGTERM when it preempts a job or its time runs out, SIGKILL
``KillWait`` seconds later (30 by default), and SIGUSR1 ahead of time where
asked to (``--signal=USR1@120``); Ctrl-C sends SIGINT. mmengine handles
none of them: the run dies at once and loses everything since its last
checkpoint.
"""
import os
import os.path as osp
import signal
import subprocess
import threading
import time
from typing import Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_dist_info, is_main_process
from mmengine.hooks import Hook

from mmdualtoken.errors import ConfigError, TrainingInterrupted
from mmdualtoken.registry import HOOKS
from .checkpoint_hook import ATOMIC_BACKEND, PREEMPTED_TMPL, write_atomically

# Copies of one signal that arrive this close together count once: Slurm
# and a terminal signal every process, and torchrun passes it on again.
SAME_SIGNAL_WITHIN = 1.0
# Whether the run of this process has passed its last iteration, and the
# stop signal that arrived since, which cost nothing (the command line says
# so, and notes one that arrives after the hook has given its handlers
# back: late_signal_handler).
run_complete = False
late_signal: Optional[int] = None


def late_signal_handler(previous):
    """A handler that notes a stop signal once the run is complete and
    otherwise hands it to ``previous`` (a handler, ``SIG_DFL`` or
    ``SIG_IGN``), for a process that ends once its run does."""

    def handle(signum: int, frame) -> None:
        global late_signal
        if run_complete:
            late_signal = signum
        elif callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return handle


def _say(message: str) -> None:
    """Prints from a signal handler or a timer thread (no logger locks)."""
    os.write(2, f'{message}\n'.encode())


@HOOKS.register_module()
class PreemptionHook(Hook):
    """On SIGTERM, SIGUSR1 or SIGINT, every rank finishes its current
    iteration, rank 0 writes a checkpoint (``preempted_iter_N.pth``, written
    whole and then renamed, and named by ``last_checkpoint``), and all
    ranks stop with a message naming it and the ``--resume`` that
    continues. Resuming from it is exact
    (:class:`~mmdualtoken.engine.ExactResumeHook`), also in the middle of
    an epoch.

    A second signal (a second later or more: copies of one signal, e.g.
    from Slurm and again from torchrun, count once), or ``deadline``
    seconds without the checkpoint written, stops the process at once;
    the previous checkpoint stays intact. Under Slurm (``SLURM_JOB_ID``
    set), with ``requeue``, rank 0 then requeues the job (``scontrol
    requeue``), which resumes from the checkpoint by itself when started
    through ``tools/train.py``.

    Args:
        signals (Sequence[str]): The signals that stop the run this way.
            Defaults to ('SIGTERM', 'SIGUSR1', 'SIGINT').
        deadline (float): Seconds from the first signal to a forced stop,
            well inside Slurm's 30 s ``KillWait``. Defaults to 20.
        requeue (bool): Requeue the Slurm job after the checkpoint.
            Defaults to True.
    """

    priority = 'LOWEST'  # after the iteration's schedulers and checkpoints

    def __init__(self,
                 signals: Sequence[str] = ('SIGTERM', 'SIGUSR1', 'SIGINT'),
                 deadline: float = 20.,
                 requeue: bool = True):
        unknown = [name for name in signals if not hasattr(signal, name)]
        if unknown or deadline <= 0:
            raise ConfigError(
                f'PreemptionHook: signals must be names such as SIGTERM '
                f'(got unknown {unknown}) and deadline > 0 (got {deadline}).')
        self.signals = [getattr(signal, name) for name in signals]
        self.deadline = deadline
        self.requeue = requeue
        self.received: Optional[int] = None
        self._previous = {}
        self._timer: Optional[threading.Timer] = None
        self._training = False
        self._complete = False
        # Set now, before dataloader workers are forked (an iteration-based
        # loop starts them before any hook runs).
        self._main_pid = os.getpid()
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._on_signal)

    def before_train(self, runner) -> None:
        self._training = True

    def after_train(self, runner) -> None:
        # From the last iteration to the end of the run, a signal costs
        # nothing: it is noted (late_signal) and the run ends as it would.
        global late_signal, run_complete
        self._training = False
        self._complete = True
        run_complete = True
        if self.received is not None:  # after the last iteration's check
            late_signal = self.received
            if self._timer is not None:
                self._timer.cancel()

    def after_run(self, runner) -> None:
        self._complete = False
        self._restore_handlers()

    def _restore_handlers(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _on_signal(self, signum: int, frame) -> None:
        global late_signal
        if os.getpid() != self._main_pid:
            return  # a dataloader worker: the main process stops it
        if self._complete:
            late_signal = signum
            return
        if not self._training:  # not training (yet): as without this hook
            previous = self._previous.get(signum, signal.SIG_DFL)
            signal.signal(signum, previous)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signum)
            return
        name = signal.Signals(signum).name
        if self.received is not None and time.monotonic() < self._debounce:
            return  # the same signal again, e.g. from torchrun and Slurm
        if self.received is not None:
            _say(f'{name} again: stopping now; the previous checkpoint is '
                 f'intact.')
            os._exit(128 + signum)
        self.received = signum
        self._debounce = time.monotonic() + SAME_SIGNAL_WITHIN
        _say(f'{name} received: finishing this iteration, then writing a '
             f'checkpoint (at most {self.deadline:g} s; a second signal '
             f'stops at once).')
        self._timer = threading.Timer(self.deadline, self._give_up, (signum, ))
        self._timer.daemon = True
        self._timer.start()

    def _give_up(self, signum: int) -> None:
        _say(f'No checkpoint after {self.deadline:g} s: stopping now; the '
             f'previous checkpoint is intact.')
        os._exit(128 + signum)

    def _agreed_signal(self) -> int:
        """The signal any rank received (0 for none): all ranks stop at the
        same iteration."""
        received = torch.tensor([self.received or 0])
        if get_dist_info()[1] > 1:
            all_reduce(received, op='max')
        return int(received.item())

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        signum = self._agreed_signal()
        if not signum:
            return
        done = runner.iter + 1
        path = osp.join(runner.work_dir, PREEMPTED_TMPL.format(done))
        runner.save_checkpoint(
            runner.work_dir,
            PREEMPTED_TMPL.format(done),
            by_epoch=False,
            backend_args=dict(backend=ATOMIC_BACKEND))
        if is_main_process():
            write_atomically(path, osp.join(runner.work_dir,
                                            'last_checkpoint'))
        if get_dist_info()[1] > 1:
            torch.distributed.barrier()
        self._training = False
        self._restore_handlers()
        if self._timer is not None:
            self._timer.cancel()
        name = signal.Signals(signum).name
        message = (f'Stopped by {name} after iteration {done}: checkpoint '
                   f'{path}. Continue with the same command and --resume, '
                   f'e.g. tools/train.py {runner.cfg.filename} --work-dir '
                   f'{runner.work_dir} --resume')
        if is_main_process() and self.requeue and os.environ.get(
                'SLURM_JOB_ID'):
            message += self._requeue(os.environ['SLURM_JOB_ID'])
        raise TrainingInterrupted(message, exit_code=128 + signum)

    @staticmethod
    def _requeue(job: str) -> str:
        try:
            result = subprocess.run(['scontrol', 'requeue', job],
                                    capture_output=True,
                                    text=True,
                                    timeout=10)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f'. Could not requeue Slurm job {job}: {error}.'
        if result.returncode != 0:
            return (f'. Could not requeue Slurm job {job} ('
                    f'{result.stderr.strip()}): submit it with sbatch '
                    f'--requeue, or resubmit it.')
        return (f'. Requeued Slurm job {job}: it resumes from this checkpoint '
                f'when it starts again.')


def started_by_slurm_requeue() -> bool:
    """Whether this process belongs to a Slurm job that was requeued."""
    return int(os.environ.get('SLURM_RESTART_COUNT', '0') or 0) > 0
