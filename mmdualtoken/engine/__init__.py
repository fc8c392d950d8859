from .checkpoint import allow_mmengine_checkpoint_types
from .distributed import CPUDistributedDataParallel
from .hooks import AtomicCheckpointHook, latest_checkpoint
from .randomness import (ReseedHook, SeededDataset, SeededSampler,
                         make_resumable)

__all__ = [
    'allow_mmengine_checkpoint_types', 'CPUDistributedDataParallel',
    'AtomicCheckpointHook', 'latest_checkpoint', 'ReseedHook', 'SeededDataset',
    'SeededSampler', 'make_resumable'
]
