"""tools/dist_train.sh and dist_test.sh as users run them: two nodes on this
machine (two launchers, NNODES=2, NODE_RANK 0 and 1, one process each,
gloo over 127.0.0.1) train, stop together on a SIGTERM to one node, resume
and test, ending with the weights of one node of two processes; and each
launcher exits with its ranks' status, its last line theirs, said once."""
import os
import signal
import socket
import subprocess
import time

import pytest
from helpers import CLS_DEMO, REPO, make_toy, processes, run_tool
from test_faults import assert_same_weights

OPTIONS = [
    'train_cfg.max_epochs=3', 'default_hooks.checkpoint.interval=1',
    'train_cfg.val_interval=10'
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def launch(cwd, script: str, *args, env: dict = None) -> subprocess.Popen:
    return subprocess.Popen(
        ['bash', str(REPO / script), *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            **(env or {})
        },
        start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 600) -> tuple:
    """Exit status and last line of stderr of a launcher."""
    try:
        _, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    lines = err.strip().splitlines()
    return process.returncode, lines[-1] if lines else '', err


def nodes(port: int) -> list:
    """Two nodes' variables; one thread per process, as torchrun sets it
    for one node of two (the same sums in the same order)."""
    return [
        dict(
            NNODES='2',
            NODE_RANK=str(i),
            MASTER_ADDR='127.0.0.1',
            PORT=str(port),
            OMP_NUM_THREADS='1') for i in (0, 1)
    ]


def wait_for(path, processes_running: list, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert all(p.poll() is None for p in processes_running), \
            'the run ended before ' + path.name
        assert time.time() < deadline, f'{path} never appeared'
        time.sleep(0.2)


def train_on(cwd, envs, work_dir, *extra) -> list:
    return [
        launch(
            cwd,
            'tools/dist_train.sh',
            CLS_DEMO,
            1,
            '--work-dir',
            work_dir,
            *extra,
            '--cfg-options',
            *OPTIONS,
            env=env) for env in envs
    ]


def test_two_nodes_train_stop_resume_and_test_like_one_node_of_two(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    single = tmp_path / 'single'
    run_tool(toy_root, 'tools/dist_train.sh', CLS_DEMO, 2, '--work-dir',
             single, '--cfg-options', *OPTIONS)

    work_dir = tmp_path / 'two_nodes'
    launchers = train_on(toy_root, nodes(free_port()), work_dir)
    wait_for(work_dir / 'epoch_1.pth', launchers)
    launchers[1].send_signal(signal.SIGTERM)  # node 1 is preempted
    for launcher in launchers:
        status, last, err = finish(launcher)
        assert status == 128 + signal.SIGTERM, err[-3000:]
        assert last.startswith('Stopped by SIGTERM after iteration'), last
        assert err.count('Stopped by SIGTERM') == 1
        assert 'Traceback' not in err and 'ChildFailedError' not in err
    assert list(work_dir.glob('preempted_iter_*.pth'))

    resumed = train_on(toy_root, nodes(free_port()), work_dir, '--resume')
    for launcher in resumed:
        status, _, err = finish(launcher)
        assert status == 0, err[-3000:]
    assert_same_weights(single / 'epoch_3.pth', work_dir / 'epoch_3.pth')

    testers = [
        launch(
            toy_root,
            'tools/dist_test.sh',
            CLS_DEMO,
            work_dir / 'epoch_3.pth',
            1,
            '--work-dir',
            tmp_path / 'test',
            env=env) for env in nodes(free_port())
    ]
    outputs = [testers[0].communicate(timeout=600)[0]]
    assert testers[1].wait(timeout=600) == 0 and testers[0].returncode == 0
    assert 'accuracy/top1' in outputs[0]


def test_launcher_exits_with_the_ranks_status_and_their_line_once(
        toy_root, tmp_path):
    """SIGUSR1 (138) and SIGINT (130) to one node of two processes, each
    resumed; an error of every rank said once (1), not followed by
    torchrun's traceback."""
    make_toy(toy_root, 'cls')
    work_dir = tmp_path / 'run'
    for signum, after in ((signal.SIGUSR1, 'epoch_1.pth'), (signal.SIGINT,
                                                            'epoch_2.pth')):
        extra = ['--resume'] if signum == signal.SIGINT else []
        launcher = launch(toy_root, 'tools/dist_train.sh', CLS_DEMO, 2,
                          '--work-dir', work_dir, *extra, '--cfg-options',
                          *OPTIONS)
        wait_for(work_dir / after, [launcher])
        launcher.send_signal(signum)
        status, last, err = finish(launcher)
        name = signal.Signals(signum).name
        assert status == 128 + signum, err[-3000:]
        assert last.startswith(f'Stopped by {name} after iteration'), last
        assert err.count(f'Stopped by {name}') == 1
    status, _, err = finish(
        launch(toy_root, 'tools/dist_train.sh', CLS_DEMO, 2, '--work-dir',
               work_dir, '--resume', '--cfg-options', *OPTIONS))
    assert status == 0 and (work_dir / 'epoch_3.pth').exists(), err[-3000:]

    # The users' command on a fresh clone: no ImageNet checkpoint yet.
    status, last, err = finish(
        launch(REPO, 'tools/dist_train.sh',
               'configs/detection/maskrcnn_dt_vit_1x.py', 2))
    assert status == 1
    assert last.startswith('error: ') and 'ImageNet checkpoint' in last
    assert err.count('ImageNet checkpoint') == 1
    assert 'Traceback' not in err and 'ChildFailedError' not in err
    assert not any(b'maskrcnn_dt_vit_1x' in cmd for _, _, cmd in processes())


@pytest.fixture(autouse=True)
def _no_stray_ranks():
    yield
    for pid, _, cmdline in processes():
        if str(CLS_DEMO).encode() in cmdline and b'--launcher' in cmdline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
