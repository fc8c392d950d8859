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


# Modules that run the command-line tools, build wheels or export models:
# `make test-fast` (-m "not e2e") leaves them out.
END_TO_END = ('test_tools/', 'test_downstream.py', 'test_install.py',
              'test_deployment.py')


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.nodeid.split('::')[0]
        if any(part in path for part in END_TO_END):
            item.add_marker(pytest.mark.e2e)
