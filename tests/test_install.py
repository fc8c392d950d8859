"""Installation: the package builds without mmcv in its requirements, says
what to do without mmcv, imports under strict warnings, and a second
checkout runs its own code."""
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version

from helpers import REPO, environment_seeing_this_one, run_tool


def python(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          capture_output=True,
                          text=True)


def test_wheel_leaves_mmcv_and_mmengine_to_the_installer(tmp_path):
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-w',
        str(tmp_path),
        str(REPO)
    ],
                   check=True,
                   capture_output=True)
    wheel, = tmp_path.glob('mmdualtoken-*.whl')
    with zipfile.ZipFile(wheel) as archive:
        metadata, = [n for n in archive.namelist() if n.endswith('/METADATA')]
        requires = [
            line for line in archive.read(metadata).decode().split('\n')
            if line.startswith('Requires-Dist:')
        ]
        names = archive.namelist()
    # Configs and model index inside the package (mmdualtoken:: paths), and
    # the license.
    assert 'mmdualtoken/.mim/model-index.yml' in names
    assert 'mmdualtoken/.mim/configs/detection/maskrcnn_dt_vit_1x.py' in names
    assert 'mmdualtoken/.mim/configs/detection/metafile.yml' in names
    assert any(n.endswith('/LICENSE') for n in names)
    unconditional = [r for r in requires if 'extra ==' not in r]
    assert any('torch' in r for r in unconditional), requires
    assert not any('mmcv' in r or 'mmengine' in r for r in unconditional)
    assert any('mmcv' in r and 'extra == "mim"' in r for r in requires)


def test_import_without_mmcv_says_how_to_install_it(tmp_path):
    result = python(
        '-c',
        'import sys; sys.modules["mmcv"] = None; import mmdualtoken',
        cwd=tmp_path)
    assert result.returncode != 0
    assert 'ImportError: mmdualtoken needs mmcv' in result.stderr
    assert 'tools/install_deps.sh' in result.stderr
    assert 'mim install' in result.stderr


def test_import_under_deprecation_warnings_as_errors(tmp_path):
    result = python(
        '-W',
        'error::DeprecationWarning',
        '-c',
        'import mmdualtoken',
        cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def second_checkout(tmp_path):
    """A copy of this checkout whose package announces itself."""
    copy = tmp_path / 'checkout_b'
    for part in ('mmdualtoken', 'tools', 'configs', 'requirements'):
        shutil.copytree(
            REPO / part,
            copy / part,
            ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('setup.py', 'pyproject.toml', 'README.md', 'MANIFEST.in'):
        shutil.copy(REPO / name, copy / name)
    with open(copy / 'mmdualtoken/__init__.py', 'a') as f:
        f.write('\nprint("mmdualtoken from", __file__)\n')
    return copy


def test_tools_of_a_second_checkout_run_its_own_package(tmp_path):
    copy = second_checkout(tmp_path)
    for tool in ('train.py', 'test.py', 'analysis_tools/get_flops.py'):
        result = subprocess.run(
            [sys.executable,
             str(copy / 'tools' / tool), '--help'],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True)
        assert f'mmdualtoken from {copy}/mmdualtoken/__init__.py' in (
            result.stdout), tool


def test_install_check_looks_at_the_installed_location(tmp_path):
    here = run_tool(tmp_path, 'tools/install_deps.sh', '--check')
    assert f'present: mmdualtoken (editable, {REPO})' in here.stdout

    copy = second_checkout(tmp_path)
    result = subprocess.run(
        ['bash', str(copy / 'tools/install_deps.sh'), '--check'],
        cwd=copy,
        capture_output=True,
        text=True)
    assert result.returncode == 1
    assert (f'would install: mmdualtoken from {copy} (editable; installed '
            f'now: {REPO})') in result.stdout


def test_install_check_keeps_what_is_there_and_changes_nothing(tmp_path):
    # A throw-away environment that sees this one's packages keeps them.
    python = environment_seeing_this_one(tmp_path / 'shared')
    shared = subprocess.run(
        ['bash', str(REPO / 'tools/install_deps.sh'), '--check'],
        env={
            **os.environ, 'PYTHON': str(python)
        },
        capture_output=True,
        text=True)
    assert f'present: torch {version("torch")}' in shared.stdout
    assert 'present: mmcv 2.1.0 with ops' in shared.stdout

    # An empty one is told what would be installed, and stays empty.
    subprocess.run([sys.executable, '-m', 'venv',
                    str(tmp_path / 'empty')],
                   check=True)
    python = str(tmp_path / 'empty/bin/python')
    before = subprocess.run([python, '-m', 'pip', 'freeze'],
                            capture_output=True,
                            text=True).stdout
    empty = subprocess.run(
        ['bash', str(REPO / 'tools/install_deps.sh'), '--check'],
        env={
            **os.environ, 'PYTHON': python
        },
        capture_output=True,
        text=True)
    assert empty.returncode == 1
    assert 'would install: torch==2.14.1 torchvision==0.29.1' in empty.stdout
    assert 'would install: mmcv==2.1.0 with ops' in empty.stdout
    assert subprocess.run([python, '-m', 'pip', 'freeze'],
                          capture_output=True,
                          text=True).stdout == before
