"""``tools/dist_train.sh`` and ``tools/dist_test.sh``: torchrun, run in this
process, whose outcome is its ranks'.

torchrun reports any rank that ended with a non-zero status as a crash: a
``ChildFailedError`` traceback of a page per rank and status 1, also for a
run that a signal stopped after writing its checkpoint, and a
``SignalException`` traceback when the signal reached torchrun itself. Here
each rank leaves its outcome (exit status and one-line message) in a folder
the launcher names (:mod:`.outcomes`, written by
:func:`mmdualtoken.cli.run`), and the launcher ends on that line, said
once, with that status: 128 + the signal for a run a signal stopped (143
SIGTERM, 138 SIGUSR1, 130 SIGINT), 1 for an error, 0 for a run that
completed, also when the signal came after its last iteration.

Signals: SIGTERM and SIGINT reach torchrun, which passes them on to the
ranks and waits for them (the ranks write a checkpoint and stop, see
:class:`~mmdualtoken.engine.PreemptionHook`); SIGUSR1, which torchrun would
die of, goes to the ranks directly.

    python -m mmdualtoken.cli.launch [torchrun options] SCRIPT [ARGS...]
"""
import logging
import os
import signal
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

from .outcomes import OUTCOMES_ENV, read_outcomes


def _children() -> List[int]:
    """The pids of this process's children (torchrun's workers)."""
    children = []
    for entry in os.listdir('/proc'):
        try:
            with open(f'/proc/{entry}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid():
            children.append(int(entry))
    return children


def _forward_to_workers(signum: int, frame) -> None:
    for pid in _children():
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def outcome(outcomes: Dict[int, dict], failures: Dict[int, int],
            signum: Optional[int], expected: int) -> Tuple[int, str]:
    """The launcher's exit status and last line, from each rank's outcome
    (global rank -> status and message), the exit codes torchrun saw of
    ranks that left none (negative: killed by that signal), the signal the
    launcher received, if any, and how many ranks it started."""
    for rank in sorted(failures):
        if rank not in outcomes:
            code = failures[rank]
            outcomes[rank] = dict(
                status=128 - code if code < 0 else code or 1,
                message=f'error: rank {rank} ended with exit code {code} '
                f'and no message of ours; its output above says why.')
    failed = sorted(r for r, o in outcomes.items() if o['status'] != 0)
    if failed:
        first = outcomes[failed[0]]
        return first['status'], first['message']
    if signum is not None and len(outcomes) < expected:
        return 128 + signum, (
            f'Stopped by {signal.Signals(signum).name} before training '
            f'started, or before its checkpoint: nothing new was saved.')
    said = [o['message'] for _, o in sorted(outcomes.items()) if o['message']]
    if said:
        return 0, said[0]
    if signum is not None:
        return 0, (f'{signal.Signals(signum).name} after the last iteration: '
                   f'the run was complete, nothing to resume.')
    return 0, ''


def main(argv: Optional[List[str]] = None) -> int:
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import \
        ChildFailedError
    args = torchrun.parse_args(sys.argv[1:] if argv is None else argv)
    # torchrun's own account of a failure is replaced by the ranks' line.
    logging.getLogger('torch.distributed.elastic').setLevel(logging.CRITICAL)
    signal.signal(signal.SIGUSR1, _forward_to_workers)
    failures, received = {}, None
    with tempfile.TemporaryDirectory(prefix='mmdualtoken-outcomes-') as folder:
        os.environ[OUTCOMES_ENV] = folder
        try:
            torchrun.run(args)
        except ChildFailedError as error:
            failures = {
                rank: failure.exitcode
                for rank, failure in error.failures.items()
            }
        except SignalException as error:
            received = int(error.sigval)
        status, message = outcome(
            read_outcomes(folder), failures, received,
            int(args.nproc_per_node)
            if str(args.nproc_per_node).isdigit() else 1)
    if message:
        print(message, file=sys.stderr, flush=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
