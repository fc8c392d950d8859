from .checkpoint import allow_mmengine_checkpoint_types
from .distributed import CPUDistributedDataParallel

__all__ = ['allow_mmengine_checkpoint_types', 'CPUDistributedDataParallel']
