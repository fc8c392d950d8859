"""The command line: argument parsing, and our errors as one line.

The library raises :class:`~mmdualtoken.errors.MMDualTokenError`; here it
becomes ``error: <message>`` on stderr and exit status 1 (for a run a
signal stopped: its message, and 128 + the signal). Any other error keeps
its traceback, and its last line is repeated at the end, below mmengine's
config dump. ``--debug`` or ``MMDUALTOKEN_DEBUG=1`` shows the traceback of
our errors too. Under ``tools/dist_train.sh`` (:mod:`.launch`) a rank
leaves its line and status to the launcher, which says it once.
"""
import contextlib
import gc
import os
import signal
import sys
import threading
import traceback
from typing import Callable, Iterator, List, Optional

from mmdualtoken.engine import preemption
from mmdualtoken.errors import DataError, MMDualTokenError, TrainingInterrupted
from .outcomes import OUTCOMES_ENV, write_outcome

DEBUG_ENV = 'MMDUALTOKEN_DEBUG'


def _worker_death(error: Exception) -> Optional[str]:
    text = str(error)
    if isinstance(error, RuntimeError) and 'DataLoader worker (pid' in text:
        return (f'{text.splitlines()[0]} This is usually a worker that ran '
                f'out of memory: lower train_dataloader.num_workers or '
                f'batch_size (or give the job more memory).')
    return None


def _leave_process_group() -> None:
    """Shuts the run's process group down while the interpreter is alive.

    A ``gloo`` group's worker threads live as long as the group object, and
    the runner's DDP wrapper keeps it in a reference cycle that only the
    collector frees: at interpreter exit, a worker still releasing its last
    collective aborts the process ("terminate called without an active
    exception") and torchrun fails the run. Collecting first lets
    ``destroy_process_group`` drop the last reference and join them.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


@contextlib.contextmanager
def _late_signals_noted() -> Iterator[None]:
    """Stop signals that arrive once the run is complete, after the
    PreemptionHook gave its handlers back, cost nothing: noted, not
    fatal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum:
        signal.signal(signum,
                      preemption.late_signal_handler(signal.getsignal(signum)))
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(main: Callable[[List[str]], object], argv: Optional[List[str]] = None):
    """Runs ``main(argv)`` (argv defaults to ``sys.argv[1:]``) as a command:
    returns its result, or exits with our errors as one line. A
    distributed run leaves its process group first, either way (outside
    the ``except`` blocks, whose traceback would keep the runner alive)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in argv or os.environ.get(DEBUG_ENV) == '1'
    argv = [arg for arg in argv if arg != '--debug']
    result, status, message = None, 0, ''
    preemption.run_complete, preemption.late_signal = False, None
    # Until the outcome is written and the group left, a signal after the
    # run's last iteration is noted, not fatal.
    late_signals = contextlib.ExitStack()
    late_signals.enter_context(_late_signals_noted())
    try:
        result = main(argv)
    except TrainingInterrupted as error:
        status, message = error.exit_code, str(error)
    except MMDualTokenError as error:
        if debug:
            raise
        status, message = 1, f'error: {DataError.message_of(error)}'
    except Exception as error:
        message = _worker_death(error)
        if message and not debug:
            message = f'error: {message}'
        else:
            traceback.print_exc()
            last = f'{type(error).__name__}: {error}'.strip().splitlines()
            message = f'error: {last[-1] if last else type(error).__name__}'
        status = 1
    if status == 0 and preemption.late_signal is not None:
        message = (f'{signal.Signals(preemption.late_signal).name} after the '
                   f'last iteration: the run was complete, nothing to '
                   f'resume.')
    under_launcher = bool(os.environ.get(OUTCOMES_ENV))
    write_outcome(status, message)
    _leave_process_group()
    late_signals.close()
    if status == 0:
        if message and not under_launcher:
            print(message, file=sys.stderr, flush=True)
        return result
    if under_launcher or not message:
        sys.exit(status)
    if status == 1:
        sys.exit(message)
    print(message, file=sys.stderr, flush=True)
    sys.exit(status)
