"""Faults that must not lose a user's work: a kill while a checkpoint is
written, and --resume with nothing to resume."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import (CLS_DEMO, REPO, RETINANET_DEMO, SEG_DEMO, make_toy,
                     processes, run_tool)

from mmdualtoken.engine.checkpoint import latest_checkpoint

DEMO = CLS_DEMO
# Stalls the second checkpoint write half way, after telling the test.
STALL = '''
import os, time
from mmdualtoken.engine import checkpoint_hook

_put = checkpoint_hook.AtomicLocalBackend.put
_saves = []


def put(self, obj, filepath):
    if str(filepath).endswith('.pth'):
        _saves.append(filepath)
        if len(_saves) == 2:
            partial = checkpoint_hook.partial_path(str(filepath))
            with open(partial, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            with open(os.environ['STALL_MARKER'], 'w') as f:
                f.write(partial)
            time.sleep(600)
    return _put(self, obj, filepath)


checkpoint_hook.AtomicLocalBackend.put = put
'''


def processes_running(config) -> list:
    """Pids of live (not zombie) processes whose command line names
    ``config``."""
    return [
        pid for pid, fields, cmdline in processes()
        if str(config).encode() in cmdline and fields[0] != 'Z'
    ]


SHORT = [
    'train_cfg.max_epochs=3', 'default_hooks.checkpoint.interval=1',
    'train_cfg.val_interval=10'
]


def train_killed_while_saving(cwd,
                              tmp_path,
                              config,
                              work_dir,
                              options,
                              save: int,
                              launcher='tools/train.py',
                              procs: int = None) -> None:
    """Trains ``config`` and kills the run (SIGKILL, the main process
    only) while it writes its ``save``-th checkpoint, half written."""
    (tmp_path / 'stall_save.py').write_text(
        STALL.replace('len(_saves) == 2', f'len(_saves) == {save}'))
    stalling = tmp_path / f'stalling_{config.stem}.py'
    stalling.write_text(
        f'_base_ = {str(config)!r}\n'
        f'custom_imports = dict(imports=["mmdualtoken", "stall_save"])\n')
    marker = tmp_path / 'stalled'
    marker.unlink(missing_ok=True)
    command = (
        [sys.executable, str(REPO / launcher),
         str(stalling)] if procs is None else
        ['bash', str(REPO / launcher),
         str(stalling),
         str(procs)])
    process = subprocess.Popen(
        command +
        ['--work-dir', str(work_dir), '--cfg-options', *options],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ, 'PYTHONPATH': str(tmp_path),
            'STALL_MARKER': str(marker)
        },
        start_new_session=True)
    try:
        deadline = time.time() + 600
        while not marker.exists() and process.poll() is None:
            assert time.time() < deadline, 'the save never started'
            time.sleep(0.5)
        assert marker.exists(), 'the run ended before the save'
        if procs is None:
            os.kill(process.pid, signal.SIGKILL)  # the main process only
            process.wait()
            # Its dataloader workers notice and exit by themselves.
            deadline = time.time() + 60
            while processes_running(stalling):
                assert time.time() < deadline, 'workers outlived the run'
                time.sleep(1)
    finally:
        # The node goes down: every process of the run, torchrun's workers
        # (each in a session of its own) included.
        for pid in [process.pid] + processes_running(stalling):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        deadline = time.time() + 60
        while processes_running(stalling) and time.time() < deadline:
            time.sleep(0.5)


def test_kill_during_a_checkpoint_write_keeps_the_previous_one(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    work_dir = tmp_path / 'run'
    train_killed_while_saving(toy_root, tmp_path, DEMO, work_dir, SHORT, 2)
    assert (tmp_path / 'stalled').read_text().endswith('.epoch_2.pth.part')

    first = work_dir / 'epoch_1.pth'
    assert torch.load(first)['meta']['epoch'] == 1  # complete, loadable
    assert not (work_dir / 'epoch_2.pth').exists()
    assert (work_dir / 'last_checkpoint').read_text() == str(first)

    resumed = run_tool(toy_root, 'tools/train.py', DEMO, '--work-dir',
                       work_dir, '--resume', '--cfg-options', *SHORT)
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr
    assert (work_dir / 'epoch_3.pth').is_file()
    assert not first.exists()  # max_keep_ckpts=1, once epoch 2 was whole
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir /
                                                             'epoch_3.pth')


def test_resume_with_nothing_to_resume_stops_and_touches_nothing(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    other_run = tmp_path / 'other_run'
    other_run.mkdir()
    (other_run / 'notes.txt').write_text('keep')
    result = run_tool(
        toy_root,
        'tools/train.py',
        DEMO,
        '--work-dir',
        other_run,
        '--resume',
        check=False)
    assert result.returncode != 0
    assert 'nothing to resume' in result.stderr
    assert 'Traceback' not in result.stderr
    assert sorted(p.name for p in other_run.iterdir()) == ['notes.txt']


def test_latest_checkpoint_is_the_newest_complete_file(tmp_path):
    assert latest_checkpoint(str(tmp_path)) == (None, [])
    names = ('epoch_11.pth', 'epoch_10.pth', 'epoch_2.pth')
    for age, name in enumerate(names):
        torch.save(dict(meta=dict(epoch=age)), tmp_path / name)
        os.utime(tmp_path / name, (1e9 - age, 1e9 - age))
    truncated = tmp_path / 'epoch_11.pth'
    truncated.write_bytes(truncated.read_bytes()[:100])
    (tmp_path / '.epoch_12.pth.part').write_bytes(b'x')
    assert latest_checkpoint(str(tmp_path)) == (str(tmp_path / 'epoch_10.pth'),
                                                [str(truncated)])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert latest_checkpoint(str(tmp_path))[0] == str(tmp_path /
                                                      'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert latest_checkpoint(str(tmp_path)) == (str(tmp_path / 'epoch_2.pth'),
                                                [])


def test_dist_train_rejects_bad_process_counts(tmp_path):
    for count in ('0', '-2', 'eight'):
        result = run_tool(
            tmp_path, 'tools/dist_train.sh', DEMO, count, check=False)
        assert result.returncode == 2, count
        assert 'must be a positive integer' in result.stderr
        assert f"got '{count}'" in result.stderr


def test_cpu_ddp_keeps_mmengine_wrapper_defaults():
    from mmdualtoken.cli.config import load_config
    cfg = load_config(str(DEMO), launcher='pytorch')
    if not torch.cuda.is_available():
        assert cfg.model_wrapper_cfg.broadcast_buffers is False


def test_missing_data_stops_before_work_naming_the_config_key(
        toy_root, tmp_path):
    elsewhere = run_tool(tmp_path, 'tools/train.py', SEG_DEMO, check=False)
    assert elsewhere.returncode != 0
    assert ("train_dataloader.dataset.data_root: 'data/toy/ade20k' does not "
            'exist') in elsewhere.stderr
    assert str(tmp_path) in elsewhere.stderr
    assert not (tmp_path / 'work_dirs').exists()

    make_toy(toy_root, 'det')
    (tmp_path / 'any.pth').write_bytes(b'')
    missing_ann = run_tool(
        toy_root,
        'tools/test.py',
        RETINANET_DEMO,
        tmp_path / 'any.pth',
        '--work-dir',
        tmp_path / 'test',
        '--cfg-options',
        'test_dataloader.dataset.ann_file=annotations/missing.json',
        check=False)
    assert missing_ann.returncode != 0
    assert 'test_dataloader.dataset.ann_file' in missing_ann.stderr
    assert 'missing.json' in missing_ann.stderr
    assert 'Traceback' not in missing_ann.stderr


def assert_same_weights(first, second):
    first = torch.load(first)['state_dict']
    second = torch.load(second)['state_dict']
    assert first.keys() == second.keys()
    for key in first:
        torch.testing.assert_close(
            second[key], first[key], rtol=0, atol=1e-6, msg=key)


RESUME_CASES = {
    # epoch-based: killed while saving epoch 3, resumed from epoch 2
    'classification': (DEMO, 'cls', SHORT, 3, 'epoch_3.pth', None),
    # iteration-based: killed while saving iteration 20, resumed from 10
    'segmentation': (SEG_DEMO, 'seg', [
        'train_cfg.max_iters=20', 'train_cfg.val_interval=100',
        'default_hooks.checkpoint.interval=10',
        'default_hooks.checkpoint.max_keep_ckpts=2'
    ], 2, 'iter_20.pth', None),
    'two-process classification': (DEMO, 'cls', SHORT, 3, 'epoch_3.pth', 2),
    # mmdet's AspectRatioBatchSampler groups images by shape
    'detection': (RETINANET_DEMO, 'det', [
        'train_cfg.max_epochs=2', 'train_cfg.val_interval=10',
        'default_hooks.checkpoint.interval=1'
    ], 2, 'epoch_2.pth', None),
}


@pytest.mark.parametrize(
    'case', RESUME_CASES.values(), ids=RESUME_CASES.keys())
def test_killed_and_resumed_run_ends_like_the_uninterrupted_one(
        case, toy_root, tmp_path):
    config, task, options, save, last, procs = case
    make_toy(toy_root, task)
    launcher = 'tools/train.py' if procs is None else 'tools/dist_train.sh'
    extra = [] if procs is None else [procs]
    uninterrupted = tmp_path / 'uninterrupted'
    run_tool(toy_root, launcher, config, *extra, '--work-dir', uninterrupted,
             '--cfg-options', *options)

    resumed = tmp_path / 'resumed'
    train_killed_while_saving(toy_root, tmp_path, config, resumed, options,
                              save, launcher, procs)
    assert not (resumed / last).exists()
    run_tool(toy_root, launcher, config, *extra, '--work-dir', resumed,
             '--resume', '--cfg-options', *options)
    assert_same_weights(uninterrupted / last, resumed / last)


def test_config_mistakes_stop_before_training_and_say_where(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    broken = tmp_path / 'broken.py'
    broken.write_text(f'_base_ = {str(DEMO)!r}\n'
                      'model = dict(head=dict(num_classes=4)\n')
    result = run_tool(toy_root, 'tools/train.py', broken, check=False)
    assert result.returncode != 0
    assert f'Syntax error in {broken}, line 2' in result.stderr

    typo = run_tool(
        toy_root,
        'tools/train.py',
        DEMO,
        '--cfg-options',
        'optim_wraper.optimizer.lr=0.1',
        check=False)
    assert typo.returncode != 0
    assert "did you mean 'optim_wrapper'?" in typo.stderr

    hook_typo = run_tool(
        toy_root,
        'tools/train.py',
        DEMO,
        '--work-dir',
        tmp_path / 'run',
        '--cfg-options',
        'default_hooks.checkpoint.max_keep_ckpt=1',
        check=False)
    assert hook_typo.returncode != 0
    assert "did you mean 'max_keep_ckpts'?" in hook_typo.stderr
    assert 'Epoch(train)' not in hook_typo.stdout + hook_typo.stderr


def copy_toy(toy_root, tmp_path, name: str):
    """A copy of one toy dataset under ``tmp_path/data/toy`` to spoil."""
    import shutil
    target = tmp_path / 'data/toy' / name
    shutil.copytree(toy_root / 'data/toy' / name, target)
    return target


def assert_clean_failure(result, *fragments):
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr[-3000:]


def test_bad_images_and_label_maps_stop_naming_the_file(toy_root, tmp_path):
    """A corrupt image (detection test) and label maps of another size than
    their images (segmentation training and testing), read by dataloader
    workers, stop with a one-line message that names the file."""
    from helpers import save_untrained_checkpoint
    from PIL import Image
    make_toy(toy_root, 'det')
    make_toy(toy_root, 'seg')
    coco = copy_toy(toy_root, tmp_path, 'coco')
    corrupt = sorted((coco / 'val2017').iterdir())[3]
    corrupt.write_bytes(corrupt.read_bytes()[:200])
    checkpoint = save_untrained_checkpoint(RETINANET_DEMO,
                                           tmp_path / 'det.pth')
    result = run_tool(
        tmp_path, 'tools/test.py', RETINANET_DEMO, checkpoint, check=False)
    assert_clean_failure(result, f'{corrupt.name} cannot be read as an '
                         'image')

    ade = copy_toy(toy_root, tmp_path, 'ade20k')
    for split, count in (('validation', 1), ('training', None)):
        for label in sorted((ade / 'annotations' / split).iterdir())[:count]:
            Image.open(label).resize((40, 30)).save(label)
    seg_checkpoint = save_untrained_checkpoint(SEG_DEMO, tmp_path / 'seg.pth')
    tested = run_tool(
        tmp_path, 'tools/test.py', SEG_DEMO, seg_checkpoint, check=False)
    assert_clean_failure(
        tested, 'ADE_val_00000001.png is 30x40 (HxW) but '
        'its image', 'a label map must have its image\'s '
        'size')
    trained = run_tool(tmp_path, 'tools/train.py', SEG_DEMO, check=False)
    assert_clean_failure(trained, 'is 30x40 (HxW) but its image',
                         'annotations/training/ADE_train_')


def test_coco_files_without_images_or_annotations_stop_before_work(
        toy_root, tmp_path):
    import json

    from helpers import save_untrained_checkpoint
    make_toy(toy_root, 'det')
    coco = copy_toy(toy_root, tmp_path, 'coco')
    val = coco / 'annotations/instances_val2017.json'
    content = json.loads(val.read_text())
    val.write_text(json.dumps({**content, 'annotations': []}))
    checkpoint = save_untrained_checkpoint(RETINANET_DEMO,
                                           tmp_path / 'det.pth')
    tested = run_tool(
        tmp_path, 'tools/test.py', RETINANET_DEMO, checkpoint, check=False)
    assert_clean_failure(
        tested, f'test_dataloader.dataset (data/toy/coco/annotations/'
        f'instances_val2017.json) has {len(content["images"])} images but '
        'no annotations')
    assert 'bbox_mAP' not in tested.stdout

    train = coco / 'annotations/instances_train2017.json'
    train.write_text(
        json.dumps({
            **json.loads(train.read_text()), 'images': [],
            'annotations': []
        }))
    trained = run_tool(
        tmp_path,
        'tools/train.py',
        RETINANET_DEMO,
        '--work-dir',
        tmp_path / 'work',
        check=False)
    assert_clean_failure(
        trained, 'train_dataloader.dataset (data/toy/coco/annotations/'
        'instances_train2017.json) has no samples')
    assert not list((tmp_path / 'work').glob('*.pth'))
