from .checks import (CheckedLoadImageFromFile, CheckSegMapSize, DataError,
                     DatasetCheckHook, add_data_checks,
                     data_errors_as_messages)

__all__ = [
    'CheckedLoadImageFromFile', 'CheckSegMapSize', 'DataError',
    'DatasetCheckHook', 'add_data_checks', 'data_errors_as_messages'
]
