"""The hooks and wrappers our runtime and dataset bases declare, each in a
tiny mmengine run in this process: atomic saves, the newest complete
checkpoint, exact resume (also in the middle of an epoch), signals,
divergence and the work-dir lock."""
import errno
import json
import os
import signal
import socket
import subprocess

import pytest
import torch
from conftest import weights
from helpers import processes
from mmengine.hooks import Hook

from mmdualtoken.engine import OptimizerOverrideHook
from mmdualtoken.engine.checkpoint import is_complete, latest_checkpoint
from mmdualtoken.engine.checkpoint_hook import (AtomicLocalBackend,
                                                write_atomically)
from mmdualtoken.engine.randomness import (ResumableBatchSampler, SampleIndex,
                                           SeedAugmentation)
from mmdualtoken.engine.work_dir_lock import (LOCK_NAME, lock_work_dir,
                                              unlock_work_dir)
from mmdualtoken.errors import (CheckpointError, ConfigError, TrainingDiverged,
                                TrainingInterrupted, WorkDirBusy)


def assert_same(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for key in first:
        torch.testing.assert_close(second[key], first[key], rtol=0, atol=1e-6)


# --- atomic writes and removals ---------------------------------------------


def test_a_full_disk_keeps_the_old_file_and_says_so(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old')
    real_open = open

    class FullDisk:
        """A file that takes a few bytes, then the disk is full."""

        def __init__(self, path, mode):
            self.file = real_open(path, mode)

        def write(self, data):
            self.file.write(data[:10])
            raise OSError(errno.ENOSPC, 'No space left on device')

        def __enter__(self):
            return self

        def __exit__(self, *args):
            self.file.close()

    monkeypatch.setattr(
        'builtins.open',
        lambda p, m='r', *a, **k: FullDisk(p, m)
        if str(p).endswith('.part') else real_open(p, m, *a, **k))
    with pytest.raises(CheckpointError) as error:
        write_atomically(b'new' * 1000, str(target))
    monkeypatch.undo()
    assert error.value.errno == errno.ENOSPC
    assert 'No space left' in str(error.value) and 'kept' in str(error.value)
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_removals_wait_for_the_flush_and_stay_inside_the_root(tmp_path):
    root, outside = tmp_path / 'work', tmp_path / 'precious'
    root.mkdir()
    outside.mkdir()
    (root / 'epoch_1.pth').write_bytes(b'x')
    (outside / 'data.txt').write_text('keep')
    backend = AtomicLocalBackend(root=str(root))
    backend.remove(str(root / 'epoch_1.pth'))
    backend.rmtree(str(outside))
    backend.remove(str(root / '../precious/data.txt'))
    assert (root / 'epoch_1.pth').exists()
    backend.flush_removals()
    assert not (root / 'epoch_1.pth').exists()
    assert (outside / 'data.txt').read_text() == 'keep'


def test_checkpoints_are_whole_and_the_kept_ones_only_after_a_save(
        runner_factory, tmp_path):
    removed_before_save = []

    class WatchSaves(Hook):
        """Before each save: is the previous checkpoint still there?"""

        def before_save_checkpoint(self, runner, checkpoint):
            previous = runner.epoch  # epoch_<epoch> was saved last
            if previous:
                path = tmp_path / f'epoch_{previous}.pth'
                removed_before_save.append(not path.exists())

    runner_factory(tmp_path, custom_hooks=[WatchSaves()]).train()
    assert removed_before_save == [False, False]
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_3.pth']
    assert is_complete(str(tmp_path / 'epoch_3.pth'))
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path /
                                                             'epoch_3.pth')
    assert not (tmp_path / LOCK_NAME).exists()  # released at the end


def test_a_filename_template_with_a_folder_saves_and_resumes(
        runner_factory, tmp_path):
    hooks = dict(
        checkpoint=dict(
            type='mmdualtoken.AtomicCheckpointHook',
            interval=1,
            filename_tmpl='ckpt/epoch_{}.pth'))
    runner_factory(tmp_path, hooks=hooks).train()
    assert sorted(p.name for p in (tmp_path / 'ckpt').iterdir()) == [
        'epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth'
    ]
    assert latest_checkpoint(str(tmp_path))[0] == str(tmp_path /
                                                      'ckpt/epoch_3.pth')


def test_leftovers_of_a_kill_go_and_a_strangers_paths_are_ignored(
        runner_factory, tmp_path):
    run = tmp_path / 'run'
    runner_factory(run).train()
    checkpoint = torch.load(run / 'epoch_3.pth', weights_only=False)
    # A stranger's checkpoint: its best checkpoint is a folder elsewhere.
    precious = tmp_path / 'precious'
    precious.mkdir()
    (precious / 'data.txt').write_text('keep')
    hub = checkpoint['message_hub']['runtime_info']
    hub['best_ckpt'] = str(precious)
    hub['keep_ckpt_ids'] = ['../precious', 3]
    torch.save(checkpoint, run / 'epoch_3.pth')
    # What a kill leaves: a partial write, a checkpoint beyond the kept one.
    (run / '.epoch_4.pth.part').write_bytes(b'half')
    torch.save({}, run / 'epoch_2.pth')
    hooks = dict(
        checkpoint=dict(
            type='mmdualtoken.AtomicCheckpointHook',
            interval=1,
            max_keep_ckpts=1,
            save_best='auto'))
    runner_factory(
        run,
        resume=True,
        load_from=str(run / 'epoch_3.pth'),
        hooks=hooks,
        epochs=4).train()
    assert (precious / 'data.txt').read_text() == 'keep'
    assert sorted(p.name for p in run.glob('*.pth*')) == ['epoch_4.pth']
    assert not list(run.glob('.*.part'))


# --- exact resume ------------------------------------------------------------


def test_seed_augmentation_repeats_a_samples_draw():
    seed = SeedAugmentation()
    draws = []
    for _ in range(2):
        seed(dict(sample_idx=SampleIndex(3, (0, 1, 0, 2, 1))))
        draws.append(torch.rand(3))
    assert torch.equal(*draws)
    seed(dict(sample_idx=SampleIndex(3, (0, 2, 0, 2, 1))))  # next epoch
    assert not torch.equal(torch.rand(3), draws[0])


def test_resumable_batch_sampler_tags_and_skips():
    from torch.utils.data import SequentialSampler
    sampler = ResumableBatchSampler(SequentialSampler(range(10)), 3)
    batches = list(sampler)
    assert [list(map(int, b)) for b in batches] == [[0, 1, 2], [3, 4, 5],
                                                    [6, 7, 8], [9]]
    assert batches[1][2].seed_key == (0, 0, 0, 1, 2)
    assert len(sampler) == 4
    sampler.skip(2)
    assert [list(map(int, b)) for b in sampler] == [[6, 7, 8], [9]]
    assert len(list(sampler)) == 4  # the skip is for one pass only


def children() -> list:
    """The pids of this process's children (its dataloader workers)."""
    return [
        pid for pid, fields, _ in processes() if int(fields[1]) == os.getpid()
    ]


class SignalAt(Hook):
    """After training iteration ``at``, sends ``signum`` to this process's
    process group as torchrun and Slurm do: to this process and to those of
    its dataloader workers that are in its group."""

    def __init__(self, at: int, signum: int):
        self.at, self.signum = at, signum

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            workers = children()
            assert workers or not runner.train_dataloader.num_workers
            group = os.getpgid(0)
            reached = [
                pid for pid in workers + [os.getpid()]
                if os.getpgid(pid) == group
            ]
            # from another process, as from torchrun: torch's workers die
            # on a SIGTERM that is not their parent's
            subprocess.run([
                'kill', '-s',
                signal.Signals(self.signum).name[3:], *map(str, reached)
            ],
                           check=True)


@pytest.mark.parametrize('by_epoch', [True, False], ids=['epochs', 'iters'])
def test_a_signal_checkpoint_in_mid_epoch_resumes_exactly(
        by_epoch, runner_factory, tmp_path):
    whole = tmp_path / 'whole'
    runner_factory(whole, by_epoch, num_workers=2).train()
    final = 'epoch_3.pth' if by_epoch else 'iter_12.pth'

    stopped = tmp_path / 'stopped'
    runner = runner_factory(
        stopped,
        by_epoch,
        custom_hooks=[SignalAt(6, signal.SIGTERM)],
        num_workers=2)
    with pytest.raises(TrainingInterrupted) as error:
        runner.train()
    assert error.value.exit_code == 128 + signal.SIGTERM
    saved = stopped / 'preempted_iter_6.pth'  # iteration 2 of epoch 2
    assert str(saved) in str(error.value) and '--resume' in str(error.value)
    assert (stopped / 'last_checkpoint').read_text() == str(saved)
    assert not (stopped / final).exists()

    runner_factory(
        stopped, by_epoch, resume=True, load_from=str(saved),
        num_workers=2).train()
    assert_same(weights(whole / final), weights(stopped / final))
    assert not saved.exists()  # outdated by the newer checkpoints


def test_a_second_signal_stops_at_once_keeping_the_checkpoints(tmp_path):
    import subprocess
    import sys
    code = f'''
import os, signal, sys, time
sys.path.insert(0, {os.path.dirname(__file__)!r})
from conftest import make_runner
from mmengine.hooks import Hook

class TwoSignals(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == 6:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # a copy: counts once
            time.sleep(1.5)
            os.kill(os.getpid(), signal.SIGTERM)  # a second signal

make_runner({str(tmp_path)!r}, custom_hooks=[TwoSignals()]).train()
'''
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True,
                            text=True)
    assert result.returncode == 128 + signal.SIGTERM, result.stderr[-2000:]
    assert 'SIGTERM again: stopping now' in result.stderr
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_1.pth']
    assert is_complete(str(tmp_path / 'epoch_1.pth'))


# --- divergence -------------------------------------------------------------


def test_divergence_stops_before_a_bad_save_keeping_the_good_ones(
        runner_factory, tmp_path):

    class Explode(Hook):
        """From iteration 6 on, the learning rate is absurd."""

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter + 1 >= 6:
                for group in runner.optim_wrapper.param_groups:
                    group['lr'] = 1e30

    runner = runner_factory(tmp_path, custom_hooks=[Explode()])
    with pytest.raises(TrainingDiverged) as error:
        runner.train()
    message = str(error.value)
    assert 'iteration' in message and 'loss=' in message
    assert 'lower lr' in message and 'clip_grad' in message
    # The run's own last checkpoint, and the command that continues it.
    assert f'{tmp_path / "epoch_1.pth"}, is kept' in message
    assert '--resume --cfg-options optim_wrapper.optimizer.lr=' in message
    assert 'default_hooks.divergence=None' in message
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_1.pth']
    assert all(
        torch.isfinite(v).all()
        for v in weights(tmp_path / 'epoch_1.pth').values())


# --- one run per work dir ---------------------------------------------------


def test_a_second_run_on_a_busy_work_dir_stops(tmp_path):
    lock = tmp_path / LOCK_NAME
    parent = os.getppid()  # alive, not us
    lock.write_text(
        json.dumps(dict(pid=parent, host=socket.gethostname(), started='x')))
    with pytest.raises(WorkDirBusy) as error:
        lock_work_dir(str(tmp_path), resume=True)
    assert f'pid {parent} on {socket.gethostname()}' in str(error.value)

    lock.write_text(json.dumps(dict(pid=2**22 + 1, host=socket.gethostname())))
    lock_work_dir(str(tmp_path))  # a dead owner's lock is taken over
    assert json.loads(lock.read_text())['pid'] == os.getpid()
    unlock_work_dir(str(tmp_path))
    assert not lock.exists()

    lock.write_text(json.dumps(dict(pid=1, host='another-node')))
    with pytest.raises(WorkDirBusy, match='--resume continues'):
        lock_work_dir(str(tmp_path))
    lock_work_dir(str(tmp_path), resume=True)  # e.g. a requeued job
    unlock_work_dir(str(tmp_path))


def test_none_turns_off_a_default_hook_of_ours_or_of_mmengine(tmp_path):
    from conftest import make_runner
    runner = make_runner(tmp_path, hooks=dict(divergence=None, timer=None))
    names = {type(hook).__name__ for hook in runner.hooks}
    assert 'DivergenceHook' not in names and 'IterTimerHook' not in names
    assert {'PreemptionHook', 'LoggerHook'} <= names


# --- a new run never overwrites an earlier run's checkpoints -----------------


def test_a_new_run_stops_before_overwriting_an_earlier_runs_checkpoints(
        runner_factory, tmp_path):
    runner_factory(tmp_path, epochs=2).train()
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob('*.pth')}
    assert before
    with pytest.raises(CheckpointError) as error:
        runner_factory(tmp_path, epochs=2).train()
    message = str(error.value)
    assert 'earlier run' in message and 'epoch_2.pth' in message
    assert '--resume' in message and 'overwrite_earlier_run=True' in message
    assert {
        p.name: p.stat().st_mtime_ns
        for p in tmp_path.glob('*.pth')
    } == before
    runner_factory(tmp_path, epochs=3, resume=True).train()  # continues
    allowed = dict(
        checkpoint=dict(
            type='mmdualtoken.AtomicCheckpointHook',
            interval=1,
            max_keep_ckpts=1,
            overwrite_earlier_run=True))
    runner_factory(tmp_path, epochs=1, hooks=allowed).train()


# --- optimizer settings given on resume --------------------------------------


def test_a_lower_lr_given_on_resume_scales_the_rest_of_the_schedule(
        runner_factory, tmp_path):
    """The resumed run follows the uninterrupted run's cosine at a tenth
    of its learning rate, instead of the checkpoint's lr."""
    cosine = [
        dict(
            type='CosineAnnealingLR',
            eta_min=1e-3,
            by_epoch=False,
            begin=0,
            end=12)
    ]

    class Record(Hook):

        def __init__(self):
            self.lrs = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.lrs.append(runner.optim_wrapper.param_groups[0]['lr'])

    whole = Record()
    runner_factory(
        tmp_path / 'whole', custom_hooks=[whole],
        param_scheduler=cosine).train()
    first = runner_factory(tmp_path / 'cut', epochs=1, param_scheduler=cosine)
    first.train()
    resumed = Record()
    runner = runner_factory(
        tmp_path / 'cut',
        lr=0.005,
        resume=True,
        param_scheduler=cosine,
        custom_hooks=[resumed, OptimizerOverrideHook(keys=['lr'])])
    runner.train()
    assert len(resumed.lrs) == 8
    for got, uninterrupted in zip(resumed.lrs, whole.lrs[4:]):
        assert got == pytest.approx(uninterrupted / 10, rel=1e-6)
    with pytest.raises(ConfigError, match='type cannot change'):
        OptimizerOverrideHook(keys=['type', 'lr'])


def test_a_changed_schedule_on_resume_stops_before_training(tmp_path):
    from mmengine.config import Config

    from mmdualtoken.cli.config import apply_on_resume
    cfg = Config(dict(custom_hooks=[]))
    with pytest.raises(
            ConfigError, match='param_scheduler.0.end with '
            '--resume'):
        apply_on_resume(cfg, {'param_scheduler.0.end': 5})
    apply_on_resume(
        cfg, {
            'optim_wrapper.optimizer.lr': 1e-4,
            'optim_wrapper.optimizer.betas': (0.9, 0.99)
        })
    assert cfg.custom_hooks[-1] == dict(
        type='mmdualtoken.OptimizerOverrideHook', keys=['betas', 'lr'])
