"""A tiny mmengine run, in this process, for the hooks of our runtime bases:
a linear model with dropout (randomness in the training step) on a dataset
whose samples are augmented with noise (randomness in the data)."""
import uuid

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmdualtoken.engine.randomness import SeedAugmentation


class NoisyDataset(Dataset):
    """16 samples of 4 features, each draw of a sample with fresh noise."""

    def __init__(self, size: int = 16):
        generator = np.random.default_rng(0)
        self.inputs = generator.normal(size=(size, 4)).astype(np.float32)
        self.targets = self.inputs.sum(1, keepdims=True)
        self.seed = SeedAugmentation()
        self.metainfo = {}

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        self.seed(dict(sample_idx=index))
        noise = np.random.normal(scale=0.1, size=4).astype(np.float32)
        return dict(
            inputs=torch.from_numpy(self.inputs[index] + noise),
            targets=torch.from_numpy(self.targets[index]))


class DropoutRegressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.dropout = nn.Dropout(0.2)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(self.dropout(torch.stack(inputs)))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(targets))**2).mean())
        return out


PROTECTIONS = dict(
    checkpoint=dict(
        type='mmdualtoken.AtomicCheckpointHook', interval=1, max_keep_ckpts=1),
    exact_resume=dict(type='mmdualtoken.ExactResumeHook'),
    preemption=dict(type='mmdualtoken.PreemptionHook', requeue=False),
    divergence=dict(type='mmdualtoken.DivergenceHook'),
    work_dir_lock=dict(type='mmdualtoken.WorkDirLockHook'),
    logger=dict(type='LoggerHook', interval=1))


def make_runner(work_dir,
                by_epoch: bool = True,
                lr: float = 0.05,
                resume: bool = False,
                load_from=None,
                hooks: dict = None,
                custom_hooks: list = None,
                num_workers: int = 0,
                epochs: int = 3,
                param_scheduler=None) -> Runner:
    """A run of ``epochs`` epochs of 4 iterations (or as many iterations),
    a checkpoint each epoch (or each 4 iterations), our hooks declared."""
    loop = (
        dict(by_epoch=True, max_epochs=epochs) if by_epoch else dict(
            type='IterBasedTrainLoop', max_iters=4 * epochs))
    sampler = 'DefaultSampler' if by_epoch else 'InfiniteSampler'
    default_hooks = {**PROTECTIONS, **(hooks or {})}
    if not by_epoch:
        default_hooks['checkpoint'] = {
            **default_hooks['checkpoint'], 'by_epoch': False,
            'interval': 4
        }
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        model=DropoutRegressor(),
        work_dir=str(work_dir),
        experiment_name=f'hooks_{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=NoisyDataset(),
            sampler=dict(type=sampler, shuffle=True),
            batch_sampler=dict(type='mmdualtoken.ResumableBatchSampler'),
            batch_size=4,
            num_workers=num_workers,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr, momentum=0.9)),
        train_cfg=loop,
        default_hooks=default_hooks,
        custom_hooks=custom_hooks,
        param_scheduler=param_scheduler,
        randomness=dict(seed=0),
        resume=resume,
        load_from=load_from,
        cfg=dict(resume=resume))


@pytest.fixture
def runner_factory():
    return make_runner


def weights(path) -> dict:
    return torch.load(path, map_location='cpu')['state_dict']
