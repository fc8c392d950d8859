import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    """A folder whose data/toy/ holds the toy datasets, written on demand.

    Tool subprocesses run with this folder as their working directory, so
    the demo configs' relative data roots point into it.
    """
    return tmp_path_factory.mktemp('toy')
