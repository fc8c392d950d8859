import pytest
import torch
from helpers import CLS_DEMO, make_toy, run_tool


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


@pytest.fixture(scope='session')
def trained_classifier(toy_root):
    """The classification demo trained once for every module that needs a
    model that learned (its tests, the INT8 check): (work dir,
    checkpoint)."""
    make_toy(toy_root, 'cls')
    work_dir = toy_root / 'work_dirs/cls'
    run_tool(toy_root, 'tools/train.py', CLS_DEMO, '--work-dir', work_dir)
    return work_dir, work_dir / 'epoch_16.pth'


# Modules that run the command-line tools, build wheels or export models:
# `make test-fast` (-m "not e2e") leaves them out.
END_TO_END = ('test_tools/', 'test_downstream.py', 'test_install.py',
              'test_deployment.py')


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.nodeid.split('::')[0]
        if any(part in path for part in END_TO_END):
            item.add_marker(pytest.mark.e2e)
