"""Every command docs/tools.md gives runs: each script to its usage, and the
loss curves of a real (one-epoch toy) run drawn by the host's tool."""
import re
import subprocess
import sys

import pytest
from helpers import CLS_DEMO, REPO, make_toy, run_tool

TOOLS_DOC = REPO / 'docs' / 'tools.md'


def documented_scripts() -> list:
    return sorted(
        set(
            re.findall(r'\b((?:tools|demo)/[\w/]+\.(?:py|sh))',
                       TOOLS_DOC.read_text())))


def host_tool(cwd, *args) -> str:
    """``python -m mmdualtoken HOST TOOL ARGS`` as docs/tools.md gives it;
    its output."""
    result = subprocess.run(
        [sys.executable, '-m', 'mmdualtoken', *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_tools_doc_names_scripts_that_exist():
    scripts = documented_scripts()
    assert len(scripts) >= 15, scripts
    missing = [s for s in scripts if not (REPO / s).is_file()]
    assert not missing, missing


@pytest.mark.parametrize('script', documented_scripts())
def test_each_documented_script_prints_its_usage(script, tmp_path):
    if script.endswith('.sh'):
        result = run_tool(tmp_path, script, check=False)
        assert result.returncode == 2 and 'usage:' in result.stderr
    else:
        result = run_tool(tmp_path, script, '--help')
        assert 'usage:' in result.stdout.lower(), result.stdout[-500:]


def test_the_documented_loss_curve_command_draws_a_real_run(
        toy_root, tmp_path):
    make_toy(toy_root, 'cls')
    work_dir = tmp_path / 'run'
    run_tool(toy_root, 'tools/train.py', CLS_DEMO, '--work-dir', work_dir,
             '--cfg-options', 'train_cfg.max_epochs=2',
             'default_hooks.logger.interval=4')
    scalars = next(work_dir.glob('*/vis_data/scalars.json'))
    picture = tmp_path / 'loss.png'
    host_tool(tmp_path, 'mmdet', 'analysis_tools/analyze_logs.py',
              'plot_curve', scalars, '--keys', 'loss', '--out', picture)
    assert picture.stat().st_size > 1000
    for host in ('mmdet', 'mmseg', 'mmpretrain'):
        assert 'usage:' in host_tool(tmp_path, host, 'train.py', '--help')
