"""Training and testing a config, as ``tools/train.py`` and
``tools/test.py`` do, with the checks that must happen around mmengine's
runner: which checkpoint a resume continues from, whether a checkpoint fits
the model (:mod:`mmdualtoken.engine.checkpoint`), and what an empty dataset
is called."""
import contextlib
import json
import os.path as osp
from typing import Iterator, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.registry import DATASETS, RUNNERS, DefaultScope
from mmengine.runner import Runner

from mmdualtoken.apis.config import say
from mmdualtoken.datasets.checks import no_samples_message
from mmdualtoken.engine.checkpoint import (check_checkpoint_fits, is_complete,
                                           latest_checkpoint,
                                           load_weights_strictly)
from mmdualtoken.errors import CheckpointError, DataError
from .config import innermost_datasets


def build_runner(cfg: Config) -> Runner:
    """Builds the config's runner, first joining a ``gloo`` process group
    for a CPU run under torchrun: mmengine's own ``init_dist('pytorch')``
    calls ``torch.cuda.set_device`` and so fails without CUDA, and the
    runner skips it when a group exists."""
    if (cfg.launcher == 'pytorch' and not torch.cuda.is_available()
            and not torch_dist.is_initialized()):
        torch_dist.init_process_group(backend='gloo')
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def resume_checkpoint(resume: str, work_dir: str) -> str:
    """The checkpoint ``--resume [CKPT]`` names (``'auto'``: the newest
    complete one of the work dir, saying which newer files it passed
    over)."""
    if resume != 'auto':
        if '://' not in resume and not osp.isfile(resume):
            raise CheckpointError(f'--resume {resume}: no such checkpoint.')
        if '://' not in resume and not is_complete(resume):
            raise CheckpointError(
                f'--resume {resume}: the file is truncated or not a '
                f'checkpoint (cut short by a kill or a full disk?). Name an '
                f'earlier one, or pass --resume alone for the newest '
                f'complete checkpoint of the work dir.')
        return resume
    checkpoint, skipped = latest_checkpoint(work_dir)
    if checkpoint is None:
        raise CheckpointError(
            f'--resume: nothing to resume in {work_dir!r} (no complete '
            f'checkpoint' +
            (f'; {", ".join(skipped)} are truncated' if skipped else '') +
            '). Pass the work dir of the run (--work-dir DIR) or its '
            'checkpoint (--resume CKPT), or leave out --resume to start a '
            'new run.')
    for path in skipped:
        say(f'{path} is truncated (cut short by a kill or a full disk): '
            f'resuming from {checkpoint}, the newest complete checkpoint.')
    say(f'Resuming from {checkpoint}')
    return checkpoint


def _unreadable_json(cfg: Config) -> Optional[DataError]:
    """The error of the first annotation file of the config that is not
    JSON (read again only once a dataset failed on one)."""
    for key, dataset in innermost_datasets(cfg, ('train', 'val', 'test')):
        path = osp.join(
            dataset.get('data_root') or '',
            dataset.get('ann_file') or '')
        if not path.endswith('.json') or not osp.isfile(path):
            continue
        try:
            with open(path) as f:
                json.load(f)
        except (ValueError, UnicodeDecodeError) as error:
            return DataError(
                f'{key}.ann_file: {path} is not a JSON file ({error}). Is it '
                f'cut short or another format? Put the COCO annotation file '
                f'there, or name it with --cfg-options {key}.ann_file=...')
    return None


@contextlib.contextmanager
def dataset_errors_named(cfg: Config) -> Iterator[None]:
    """Names the file behind a dataset that fails while it is built: an
    annotation file that is not JSON (mmdet's COCO reader names none), or a
    dataset with no samples (mmengine fails on it with ``np.concatenate``
    of nothing, in its serialisation; each dataset of the config is built
    again without serialisation to find it)."""
    try:
        yield
    except json.JSONDecodeError:
        unreadable = _unreadable_json(cfg)
        if unreadable is None:
            raise
        raise unreadable from None
    except ValueError as error:
        if 'need at least one array to concatenate' not in str(error):
            raise
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            for key, dataset in innermost_datasets(cfg,
                                                   ('train', 'val', 'test')):
                built = DATASETS.build({**dataset, 'serialize_data': False})
                if len(built) == 0:
                    raise DataError(
                        no_samples_message(
                            osp.join(
                                dataset.get('data_root', ''),
                                dataset.get('ann_file', '')), key)) from None
        raise


def train(cfg: Config) -> None:
    """Trains ``cfg`` (a config from :func:`~.config.load_config`; its
    ``load_from`` / ``resume`` already decided)."""
    runner = build_runner(cfg)
    if cfg.get('load_from'):
        check_checkpoint_fits(runner.model, cfg.load_from,
                              bool(cfg.get('resume')))
    with dataset_errors_named(cfg):
        runner.train()


def evaluate(cfg: Config, checkpoint: str) -> dict:
    """Tests ``checkpoint`` (which must fit exactly) on ``cfg``'s test set;
    returns the metrics."""
    cfg.load_from = None  # loaded strictly below, once the model exists
    runner = build_runner(cfg)
    load_weights_strictly(runner.model, checkpoint)
    with dataset_errors_named(cfg):
        metrics = runner.test()
    return metrics if is_main_process() else {}
