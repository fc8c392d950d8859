"""What a run does, declared by our configs: the hooks that protect a
user's work, exact resume, and the config checks of the tools."""
from .checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .distributed import CPUDistributedDataParallel
from .divergence import DivergenceHook
from .optimizer_override import OptimizerOverrideHook
from .preemption import PreemptionHook
from .randomness import (ExactResumeHook, ResumableBatchSampler,
                         SeedAugmentation)
from .work_dir_lock import WorkDirLockHook

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CPUDistributedDataParallel',
    'DivergenceHook', 'OptimizerOverrideHook', 'PreemptionHook',
    'ExactResumeHook', 'ResumableBatchSampler', 'SeedAugmentation',
    'WorkDirLockHook'
]
