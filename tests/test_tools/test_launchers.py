"""The Slurm scripts hand srun the OpenMMLab variables and our tools."""
import os

import pytest
from helpers import REPO, run_tool

FAKE_SRUN = '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$SRUN_LOG"\n'


@pytest.mark.parametrize('script,args,tool,extra', [
    ('tools/slurm_train.sh', ['part', 'job', 'cfg.py', '--amp'], [
        'tools/train.py', 'cfg.py', '--amp', '--launcher', 'slurm'
    ], ['--signal=USR1@120']),
    ('tools/slurm_test.sh', ['part', 'job', 'cfg.py', 'w.pth', '--tta'],
     ['tools/test.py', 'cfg.py', 'w.pth', '--tta', '--launcher', 'slurm'], []),
])
def test_slurm_scripts_pass_gpus_and_arguments(script, args, tool, extra,
                                               tmp_path):
    (tmp_path / 'srun').write_text(FAKE_SRUN)
    (tmp_path / 'srun').chmod(0o755)
    log = tmp_path / 'srun_args'
    run_tool(
        tmp_path,
        script,
        *args,
        env=dict(
            PATH=f'{tmp_path}:{os.environ["PATH"]}',
            SRUN_LOG=str(log),
            GPUS='16',
            GPUS_PER_NODE='8',
            SRUN_ARGS='--quotatype=auto'))
    srun = log.read_text().splitlines()
    # Training asks for SIGUSR1 two minutes before the time limit.
    assert srun[:8 + len(extra) + 1] == [
        '-p', 'part', '--job-name=job', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        *extra, '--quotatype=auto'
    ]
    srun = srun[len(extra):]
    assert srun[9:11] == ['python', '-u']
    assert srun[11] == str(REPO / tool[0]) and srun[12:] == tool[1:]


def test_slurm_test_needs_a_checkpoint(tmp_path):
    result = run_tool(
        tmp_path, 'tools/slurm_test.sh', 'part', 'job', 'cfg.py', check=False)
    assert result.returncode == 2 and 'CHECKPOINT' in result.stderr
