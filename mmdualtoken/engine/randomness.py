"""Randomness and data order that a resumed run replays exactly.

mmengine seeds the random generators once, at the start of a run, and the
dataloader workers when they start. A run resumed from a checkpoint starts
both afresh, so it draws other random numbers (drop path, Mixup, data
augmentation) than the uninterrupted run did after the same iteration; and
an epoch-based run resumed in the middle of an epoch starts that epoch
again from its first batch. Here every draw is a function of where the run
is instead, and the order of batches of the uninterrupted run is kept:

- :class:`ExactResumeHook` seeds the main process before each training
  iteration from (seed, rank, iteration), and after a resume in the middle
  of an epoch makes the batch sampler skip the batches already trained;
- :class:`ResumableBatchSampler` wraps the batch sampler and tags each
  index with (seed, epoch, rank, batch, slot);
- :class:`SeedAugmentation`, first in a training pipeline, seeds the
  generators from that tag, whichever worker loads the sample.

Our dataset and runtime bases declare the three.
"""
import hashlib
import logging
import random
from typing import Iterator, List, Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import BatchSampler, Sampler

from mmdualtoken.registry import DATA_SAMPLERS, HOOKS, TRANSFORMS


def seed_everything(*key) -> None:
    """Seeds python's, numpy's and torch's generators from ``key``."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    seed = int.from_bytes(digest[:4], 'little')
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SampleIndex(int):
    """A dataset index that also carries the seed of its augmentation.

    mmengine's datasets keep the index they are given as the sample's
    ``sample_idx``, where :class:`SeedAugmentation` reads the seed.
    """

    def __new__(cls, index: int, seed_key: tuple):
        obj = super().__new__(cls, index)
        obj.seed_key = seed_key
        return obj

    def __reduce__(self):
        return SampleIndex, (int(self), self.seed_key)


@DATA_SAMPLERS.register_module()
class ResumableBatchSampler(Sampler):
    """Batches of the wrapped batch sampler (``batch_sampler``, e.g. mmdet's
    ``AspectRatioBatchSampler``; by default torch's ``BatchSampler``), with
    each index tagged for :class:`SeedAugmentation`, and the first batches
    of an epoch skipped on request (:meth:`skip`).

    Args:
        sampler (Sampler): The index sampler (mmengine passes it).
        batch_size (int): Images per batch (mmengine passes it).
        drop_last (bool): For the default ``BatchSampler``: drop the last
            incomplete batch. Defaults to False.
        batch_sampler (dict, optional): Config of the wrapped batch sampler.
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int,
                 drop_last: bool = False,
                 batch_sampler: Optional[dict] = None):
        if batch_sampler is None:
            self.batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        else:
            self.batch_sampler = MMENGINE_DATA_SAMPLERS.build(
                batch_sampler,
                default_args=dict(sampler=sampler, batch_size=batch_size))
        # `sampler` is what mmengine's DistSamplerSeedHook sets the epoch of.
        self.sampler = sampler
        self.batch_size = batch_size
        self.rank = get_dist_info()[0]
        self._skip = 0

    def skip(self, batches: int) -> None:
        """The next iteration (epoch) starts after ``batches`` batches."""
        self._skip = batches

    def __iter__(self) -> Iterator[List[SampleIndex]]:
        seed = getattr(self.sampler, 'seed', 0)
        epoch = getattr(self.sampler, 'epoch', 0)
        skip, self._skip = self._skip, 0
        for position, batch in enumerate(self.batch_sampler):
            if position >= skip:
                yield [
                    SampleIndex(index,
                                (seed, epoch, self.rank, position, slot))
                    for slot, index in enumerate(batch)
                ]

    def __len__(self) -> int:
        return len(self.batch_sampler)


@TRANSFORMS.register_module()
class SeedAugmentation(BaseTransform):
    """Seeds the random generators from the sample's place in the run (set
    by :class:`ResumableBatchSampler`), so that its augmentation does not
    depend on which worker loads it nor on what that worker loaded before.
    Put it first in a training pipeline; samples without a place (another
    sampler) pass unchanged."""

    def transform(self, results: dict) -> dict:
        key = getattr(results.get('sample_idx'), 'seed_key', None)
        if key is not None:
            seed_everything(*key)
        return results


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Makes a resumed run replay the uninterrupted one.

    Before each training iteration it seeds the main process from (seed,
    rank, iteration), so drop path, Mixup / CutMix and every other draw of
    the step replay. After a resume in the middle of an epoch (from a
    checkpoint a signal wrote), it makes :class:`ResumableBatchSampler` skip
    the batches that epoch already trained; iteration-based loops replay
    their batches themselves.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            return
        done = runner.iter - runner.epoch * len(loop.dataloader)
        if done <= 0:
            return
        sampler = loop.dataloader.batch_sampler
        if isinstance(sampler, ResumableBatchSampler):
            sampler.skip(done)
            print_log(
                f'Resuming in epoch {runner.epoch + 1} after its first '
                f'{done} batches.', 'current')
        else:
            print_log(
                f'Resuming in the middle of epoch {runner.epoch + 1}, which '
                f'restarts from its first batch: declare '
                f'train_dataloader.batch_sampler=dict(type='
                f'"mmdualtoken.ResumableBatchSampler") to continue after the '
                f'{done} batches already trained.', 'current', logging.WARNING)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        seed_everything(runner.seed, get_dist_info()[0], runner.iter)
