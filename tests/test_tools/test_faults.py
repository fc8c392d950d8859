"""Faults that must not lose a user's work: a kill while a checkpoint is
written, and --resume with nothing to resume."""
import os
import signal
import subprocess
import sys
import time

import torch

from helpers import REPO, make_toy, run_tool

from mmdualtoken.engine import latest_checkpoint

DEMO = REPO / 'configs/classification/demo/dt_vit_t_toy_imagenet.py'
# Stalls the second checkpoint write half way, after telling the test.
STALL = '''
import os, time
from mmengine.fileio.backends import local_backend

_put = local_backend.LocalBackend.put
_saves = []


def put(self, obj, filepath):
    if str(filepath).endswith(('.pth', '.part')):
        _saves.append(filepath)
        if len(_saves) == 2:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            with open(os.environ['STALL_MARKER'], 'w') as f:
                f.write(str(filepath))
            time.sleep(600)
    return _put(self, obj, filepath)


local_backend.LocalBackend.put = put
'''
SHORT = ['train_cfg.max_epochs=3', 'default_hooks.checkpoint.interval=1',
         'train_cfg.val_interval=10']


def test_kill_during_a_checkpoint_write_keeps_the_previous_one(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    (tmp_path / 'stall_save.py').write_text(STALL)
    stalling = tmp_path / 'stalling_demo.py'
    stalling.write_text(
        f'_base_ = {str(DEMO)!r}\n'
        f'custom_imports = dict(imports=["mmdualtoken", "stall_save"])\n')
    work_dir = tmp_path / 'run'
    marker = tmp_path / 'stalled'
    process = subprocess.Popen(
        [sys.executable, str(REPO / 'tools/train.py'), str(stalling),
         '--work-dir', str(work_dir), '--cfg-options', *SHORT],
        cwd=toy_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, 'PYTHONPATH': str(tmp_path),
             'STALL_MARKER': str(marker)},
        start_new_session=True)
    try:
        deadline = time.time() + 600
        while not marker.exists() and process.poll() is None:
            assert time.time() < deadline, 'the second save never started'
            time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert marker.read_text().endswith('.epoch_2.pth.part')

    first = work_dir / 'epoch_1.pth'
    assert torch.load(first)['meta']['epoch'] == 1  # complete, loadable
    assert not (work_dir / 'epoch_2.pth').exists()
    assert (work_dir / 'last_checkpoint').read_text() == str(first)

    resumed = run_tool(toy_root, 'tools/train.py', DEMO, '--work-dir',
                       work_dir, '--resume', '--cfg-options', *SHORT)
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr
    assert (work_dir / 'epoch_3.pth').is_file()
    assert not first.exists()  # max_keep_ckpts=1, once epoch 2 was whole
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'epoch_3.pth')


def test_resume_with_nothing_to_resume_stops_and_touches_nothing(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    other_run = tmp_path / 'other_run'
    other_run.mkdir()
    (other_run / 'notes.txt').write_text('keep')
    result = run_tool(toy_root, 'tools/train.py', DEMO, '--work-dir',
                      other_run, '--resume', check=False)
    assert result.returncode != 0
    assert 'nothing to resume' in result.stderr
    assert 'Traceback' not in result.stderr
    assert sorted(p.name for p in other_run.iterdir()) == ['notes.txt']


def test_latest_checkpoint_falls_back_to_the_newest_complete_file(
        tmp_path):
    assert latest_checkpoint(str(tmp_path)) is None
    for name in ('epoch_2.pth', 'epoch_10.pth', '.epoch_11.pth.part',
                 'iter_x.pth'):
        (tmp_path / name).write_bytes(b'x')
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
