from .checks import (CheckedLoadImageFromFile, CheckSegMap, DatasetCheckHook,
                     check_dataset)

__all__ = [
    'CheckedLoadImageFromFile', 'CheckSegMap', 'DatasetCheckHook',
    'check_dataset'
]
