"""The command line: argument parsing, and our errors as one line.

The library raises :class:`~mmdualtoken.errors.MMDualTokenError`; here it
becomes ``error: <message>`` on stderr and exit status 1 (128 + the signal
for a run a signal stopped). Any other error keeps its traceback, and its
last line is repeated at the end, below mmengine's config dump. ``--debug``
or ``MMDUALTOKEN_DEBUG=1`` shows the traceback of our errors too.
"""
import gc
import os
import sys
import traceback
from typing import Callable, List, Optional

from mmdualtoken.errors import DataError, MMDualTokenError, TrainingInterrupted

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


def run(main: Callable[[List[str]], object], argv: Optional[List[str]] = None):
    """Runs ``main(argv)`` (argv defaults to ``sys.argv[1:]``) as a command:
    returns its result, or exits with our errors as one line. A
    distributed run leaves its process group first, either way (outside
    the ``except`` blocks, whose traceback would keep the runner alive)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in argv or os.environ.get(DEBUG_ENV) == '1'
    argv = [arg for arg in argv if arg != '--debug']
    result = exit_with = None
    try:
        result = main(argv)
    except TrainingInterrupted as error:
        exit_with = error.exit_code
    except MMDualTokenError as error:
        if debug:
            raise
        exit_with = f'error: {DataError.message_of(error)}'
    except Exception as error:
        message = _worker_death(error)
        if message and not debug:
            exit_with = f'error: {message}'
        else:
            traceback.print_exc()
            last = f'{type(error).__name__}: {error}'.strip().splitlines()
            exit_with = f'error: {last[-1] if last else type(error).__name__}'
    _leave_process_group()
    if exit_with is not None:
        sys.exit(exit_with)
    return result
