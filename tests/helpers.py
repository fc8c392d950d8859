"""Helpers for the tests that run the command-line tools."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_toy(root: Path, task: str) -> None:
    run_tool(root, 'tools/make_toy_data.py', '--task', task)


def run_tool(cwd: Path, script: str, *args, check: bool = True,
             env: dict = None) -> subprocess.CompletedProcess:
    """Runs a script of tools/ (.py with this Python, .sh with bash)."""
    path = str(REPO / script)
    command = ([sys.executable, path] if path.endswith('.py')
               else ['bash', path])
    result = subprocess.run(
        command + [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f'{script} failed ({result.returncode}):\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-6000:]}')
    return result


def parse_test_metrics(output: str) -> dict:
    """Parses the 'Test metrics:' block that tools/test.py prints."""
    lines = output.split('Test metrics:')[-1].strip().splitlines()
    metrics = {}
    for line in lines:
        name, _, value = line.strip().partition(': ')
        try:
            metrics[name] = float(value)
        except ValueError:
            break
    return metrics


def save_untrained_checkpoint(config: Path, path: Path) -> Path:
    """Saves the freshly initialized model of a config (the baseline a
    trained model must beat) as a checkpoint tools/test.py can load."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope

    import mmdualtoken  # noqa: F401  (registers the modules)

    cfg = Config.fromfile(str(config))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)
    return path
