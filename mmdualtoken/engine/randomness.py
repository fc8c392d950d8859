"""Randomness that a resumed run replays exactly.

mmengine seeds the random generators once, at the start of a run, and the
dataloader workers once, when they start. A run resumed from a checkpoint
starts both afresh, so it draws other random numbers (drop path, Mixup,
data augmentation) than the uninterrupted run did after the same
iteration, and ends elsewhere. Here every draw is a function of where the
run is instead: :class:`ReseedHook` seeds the main process before each
training iteration from (seed, rank, iteration), and
:class:`SeededSampler` with :class:`SeededDataset` seed each sample's
augmentation from (seed, epoch, rank, position in the epoch), whichever
worker loads it. The tools set this up for every training run
(:func:`make_resumable`).
"""
import hashlib
import random
from typing import Iterator, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from torch.utils.data import Sampler

from mmdualtoken.registry import DATA_SAMPLERS, DATASETS, HOOKS


def seed_everything(*key) -> None:
    """Seeds python's, numpy's and torch's generators from ``key``."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    seed = int.from_bytes(digest[:4], 'little')
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SampleIndex(int):
    """A dataset index that also carries the seed of its augmentation."""

    def __new__(cls, index: int, seed_key: tuple):
        obj = super().__new__(cls, index)
        obj.seed_key = seed_key
        return obj

    def __reduce__(self):
        return SampleIndex, (int(self), self.seed_key)


@DATA_SAMPLERS.register_module()
class SeededSampler(Sampler):
    """Wraps a sampler (``DefaultSampler``, ``InfiniteSampler``, ...) and
    tags each index it yields with (seed, epoch, rank, position), for
    :class:`SeededDataset`. The indices themselves are the wrapped
    sampler's, so batch samplers (e.g. mmdet's ``AspectRatioBatchSampler``)
    work unchanged.

    Args:
        dataset: The dataset, passed on to the wrapped sampler.
        sampler (dict): Config of the wrapped sampler.
        seed (int, optional): Passed on to the wrapped sampler.
    """

    def __init__(self, dataset, sampler: dict, seed: Optional[int] = None):
        self.sampler = MMENGINE_DATA_SAMPLERS.build(
            sampler, default_args=dict(dataset=dataset, seed=seed))
        self.dataset = dataset
        self.epoch = 0
        self.rank = get_dist_info()[0]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[SampleIndex]:
        seed = getattr(self.sampler, 'seed', 0)
        for position, index in enumerate(self.sampler):
            yield SampleIndex(index, (seed, self.epoch, self.rank, position))

    def __len__(self) -> int:
        return len(self.sampler)


@DATASETS.register_module()
class SeededDataset:
    """Wraps a dataset: before loading a :class:`SampleIndex`, seeds the
    generators from its key, so its augmentation does not depend on which
    worker loads it, nor on what that worker loaded before. Everything
    else (``metainfo``, ``get_data_info``, ...) is the wrapped dataset's.

    Args:
        dataset (dict | Dataset): The dataset or its config.
    """

    def __init__(self, dataset):
        if isinstance(dataset, dict):
            dataset = MMENGINE_DATASETS.build(dataset)
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        if isinstance(index, SampleIndex):
            seed_everything(*index.seed_key)
        return self.dataset[int(index)]

    def __getattr__(self, name):
        if name == 'dataset':  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)


@HOOKS.register_module()
class ReseedHook(Hook):
    """Seeds the main process before each training iteration from (seed,
    rank, iteration): drop path, Mixup / CutMix and every other draw of the
    training step then replay exactly after a resume."""

    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        seed_everything(runner.seed, get_dist_info()[0], runner.iter)


def make_resumable(cfg: Config) -> None:
    """Sets up a training config so that a resumed run replays the
    uninterrupted one: reseeding before each iteration, and each sample's
    augmentation seeded by its place in the run."""
    loader = cfg.get('train_dataloader')
    if not loader or loader.get('sampler') is None:
        return
    cfg.custom_hooks = [
        *cfg.get('custom_hooks', []),
        dict(type='mmdualtoken.ReseedHook')
    ]
    loader.sampler = dict(
        type='mmdualtoken.SeededSampler', sampler=loader.sampler)
    loader.dataset = dict(
        type='mmdualtoken.SeededDataset', dataset=loader.dataset)
