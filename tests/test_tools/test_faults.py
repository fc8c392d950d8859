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
def processes_running(config) -> list:
    """Pids of live processes whose command line names ``config``."""
    found = []
    for entry in os.listdir('/proc'):
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmdline = f.read()
            with open(f'/proc/{entry}/stat') as f:
                zombie = f.read().rsplit(')', 1)[1].split()[0] == 'Z'
        except (OSError, IndexError):
            continue
        if str(config).encode() in cmdline and not zombie:
            found.append(int(entry))
    return found


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
        os.kill(process.pid, signal.SIGKILL)  # the main process only
        process.wait()
        # Its dataloader workers notice and exit by themselves.
        deadline = time.time() + 60
        while processes_running(stalling):
            assert time.time() < deadline, 'dataloader workers outlived it'
            time.sleep(1)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
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


def test_dist_train_rejects_bad_process_counts(tmp_path):
    for count in ('0', '-2', 'eight'):
        result = run_tool(tmp_path, 'tools/dist_train.sh', DEMO, count,
                          check=False)
        assert result.returncode == 2, count
        assert 'must be a positive integer' in result.stderr
        assert f"got '{count}'" in result.stderr


def test_cpu_ddp_keeps_mmengine_wrapper_defaults():
    from mmdualtoken.apis.config import load_config
    cfg = load_config(str(DEMO), launcher='pytorch')
    if not torch.cuda.is_available():
        assert cfg.model_wrapper_cfg.broadcast_buffers is False


def test_missing_data_stops_before_work_naming_the_config_key(
        toy_root, tmp_path):
    seg_demo = REPO / 'configs/segmentation/demo/deeplabv3_dt_vit_t_toy_ade20k.py'
    elsewhere = run_tool(tmp_path, 'tools/train.py', seg_demo, check=False)
    assert elsewhere.returncode != 0
    assert ("train_dataloader.dataset.data_root: 'data/toy/ade20k' does not "
            'exist') in elsewhere.stderr
    assert str(tmp_path) in elsewhere.stderr
    assert not (tmp_path / 'work_dirs').exists()

    make_toy(toy_root, 'det')
    det_demo = REPO / 'configs/detection/demo/retinanet_dt_vit_t_toy_coco.py'
    (tmp_path / 'any.pth').write_bytes(b'')
    missing_ann = run_tool(
        toy_root, 'tools/test.py', det_demo, tmp_path / 'any.pth',
        '--work-dir', tmp_path / 'test', '--cfg-options',
        'test_dataloader.dataset.ann_file=annotations/missing.json',
        check=False)
    assert missing_ann.returncode != 0
    assert 'test_dataloader.dataset.ann_file' in missing_ann.stderr
    assert 'missing.json' in missing_ann.stderr
    assert 'Traceback' not in missing_ann.stderr
