"""Training and testing a config, as ``tools/train.py`` and
``tools/test.py`` do, with the checks that must happen around mmengine's
runner: which checkpoint a resume continues from, whether a checkpoint fits
the model, and what an empty dataset is called."""
import contextlib
import os.path as osp
from typing import Iterator

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.registry import DATASETS, RUNNERS, DefaultScope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from mmdualtoken.datasets.checks import no_samples_message
from mmdualtoken.errors import CheckpointError, DataError
from .checkpoint import is_complete, latest_checkpoint, weights_of
from .config import innermost_datasets, say


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


def _mismatches(model: nn.Module, state: dict) -> tuple:
    while hasattr(model, 'module'):  # DDP and TTA wrappers
        model = model.module
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f'{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}'
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape)
    return expected, missing, unexpected, mismatched


def _summary(kind: str, names: list) -> str:
    shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
    return f'{len(names)} {kind}: {shown}'


def _misfit_error(checkpoint: str, missing, unexpected,
                  mismatched) -> CheckpointError:
    problems = [
        _summary(kind, names)
        for kind, names in [('missing keys',
                             missing), ('unexpected keys', unexpected),
                            ('shape mismatches (checkpoint vs model)',
                             mismatched)] if names
    ]
    return CheckpointError(
        f'{checkpoint} does not fit the model of this config: ' +
        '; '.join(problems) + '. Is it a checkpoint of this config\'s '
        'variant and task (e.g. T vs S, a classifier vs a detector)?')


def check_checkpoint_fits(model: nn.Module,
                          checkpoint: str,
                          exact: bool,
                          max_mismatch: float = 0.1) -> None:
    """Stops before training when ``load_from`` or ``--resume`` names a
    checkpoint of another model: a resume must fit exactly, ``load_from``
    may miss or reshape at most ``max_mismatch`` of the model's weights (a
    new head), as the backbone's ``Pretrained`` check allows."""
    state = weights_of(_load_checkpoint(checkpoint, map_location='cpu'))
    expected, missing, unexpected, mismatched = _mismatches(model, state)
    unfit = (len(missing) + len(mismatched)) / max(len(expected), 1)
    if (exact and (missing or mismatched)) or unfit > max_mismatch:
        raise _misfit_error(checkpoint, missing, unexpected, mismatched)


def load_weights_strictly(model: nn.Module, checkpoint: str) -> None:
    """Loads a checkpoint that must fit the model exactly.

    Accepts what mmengine's loader accepts (local paths, URLs,
    ``open-mmlab://``-style prefixes) holding a state dict, as is or under
    ``state_dict`` or ``model``, with or without ``module.`` prefixes. Any
    missing, unexpected or mis-shaped key stops with a short summary, as a
    test of the wrong weights would only print chance-level metrics.
    """
    state = weights_of(_load_checkpoint(checkpoint, map_location='cpu'))
    _, missing, unexpected, mismatched = _mismatches(model, state)
    if missing or unexpected or mismatched:
        raise _misfit_error(checkpoint, missing, unexpected, mismatched)
    while hasattr(model, 'module'):
        model = model.module
    model.load_state_dict(state)


@contextlib.contextmanager
def empty_datasets_named(cfg: Config) -> Iterator[None]:
    """Names the dataset that has no samples when mmengine fails on it
    while building it (``np.concatenate`` of nothing, in its
    serialisation): each dataset of the config is built again without
    serialisation to find it."""
    try:
        yield
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
    with empty_datasets_named(cfg):
        runner.train()


def evaluate(cfg: Config, checkpoint: str) -> dict:
    """Tests ``checkpoint`` (which must fit exactly) on ``cfg``'s test set;
    returns the metrics."""
    cfg.load_from = None  # loaded strictly below, once the model exists
    runner = build_runner(cfg)
    load_weights_strictly(runner.model, checkpoint)
    with empty_datasets_named(cfg):
        metrics = runner.test()
    return metrics if is_main_process() else {}
