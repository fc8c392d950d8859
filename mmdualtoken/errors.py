"""The errors a user can cause and fix. Each message says what to change.

The library raises them; the command line (:mod:`mmdualtoken.cli`) prints
them as one line and exits with status 1. They subclass the built-in error
of their kind too, so callers that catch ``ValueError`` or ``OSError`` keep
working.
"""
import pickle


class MMDualTokenError(Exception):
    """An error whose message is complete: the tools print it alone, as one
    line, without a traceback."""


class ConfigError(MMDualTokenError, ValueError):
    """A config value, a config key or a command-line argument that cannot
    work."""


class DataError(MMDualTokenError, ValueError):
    """A sample or dataset the task cannot use; the message says which."""

    MARK = 'DataError: '

    @classmethod
    def message_of(cls, error: Exception) -> str:
        """Our message, also from the re-raise of a dataloader worker,
        whose text holds the worker's whole traceback."""
        text = str(error).strip()
        return text.rsplit(cls.MARK, 1)[-1] if cls.MARK in text else text


class CheckpointError(MMDualTokenError, OSError):
    """A checkpoint that cannot be read, written or used here."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint holding objects that could run code when loaded."""


class WorkDirBusy(MMDualTokenError, RuntimeError):
    """Another run is using the work dir."""


class TrainingDiverged(MMDualTokenError, FloatingPointError):
    """The loss or the gradient norm stopped being finite."""


class TrainingInterrupted(MMDualTokenError):
    """A signal stopped the run after its checkpoint was written.

    Attributes:
        exit_code (int): 128 + the signal number, as a shell reports a
            process ended by that signal.
    """

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self):
        return type(self), (str(self), self.exit_code)
