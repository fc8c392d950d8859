"""The code passes the lint settings of setup.cfg (flake8, isort, yapf),
as pre-commit checks them."""
import subprocess
import sys

import pytest
from helpers import REPO

PATHS = [
    'mmdualtoken', 'tools', 'tests', 'demo', 'examples', 'configs', 'setup.py'
]


@pytest.mark.parametrize(
    'command', [
        ['flake8'],
        ['isort', '--check-only', '--diff'],
        ['yapf', '--diff', '--recursive'],
    ],
    ids=lambda command: command[0])
def test_code_passes_the_linters(command):
    pytest.importorskip(command[0])
    result = subprocess.run([sys.executable, '-m', *command, *PATHS],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0 and not result.stdout.strip(), (
        result.stdout[-3000:] + result.stderr[-2000:])
