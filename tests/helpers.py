"""Helpers for the tests that run the command-line tools."""
import importlib.util
import os
import site
import subprocess
import sys
import venv
from pathlib import Path
from types import ModuleType
from typing import Iterator, List, Tuple

REPO = Path(__file__).resolve().parents[1]
# The demo configs, by the data they train on.
CLS_DEMO = (
    REPO / 'configs/classification/demo/'
    'dualtoken-vit-t_1xb32-16e_toy-imagenet-32px.py')
MASK_RCNN_DEMO = (
    REPO / 'configs/detection/demo/'
    'mask-rcnn_dualtoken-vit-t_fpn_1xb8-6e_toy-coco.py')
RETINANET_DEMO = (
    REPO / 'configs/detection/demo/'
    'retinanet_dualtoken-vit-t_fpn_1xb8-8e_toy-coco.py')
SEG_DEMO = (
    REPO / 'configs/segmentation/demo/'
    'deeplabv3_dualtoken-vit-t_1xb8-400_toy-ade20k-96x96.py')
PSPNET_DEMO = (
    REPO / 'configs/segmentation/demo/'
    'pspnet_dualtoken-vit-t_1xb8-400_toy-ade20k-96x96.py')


def processes() -> Iterator[Tuple[int, List[str], bytes]]:
    """The processes of this machine: pid, the fields of ``/proc/PID/stat``
    after the command name (state, parent pid...) and the command line."""
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmdline = f.read()
        except OSError:  # ended meanwhile
            continue
        yield int(entry), fields, cmdline


def environment_seeing_this_one(path: Path) -> Path:
    """A new virtual environment at ``path`` that sees this interpreter's
    packages behind its own, and returns its python. Unlike
    ``--system-site-packages``, which shows the base interpreter's
    packages, this also holds where the tests run in a virtualenv."""
    venv.create(path, with_pip=False)
    python = path / 'bin/python'
    query = 'import sysconfig; print(sysconfig.get_path("purelib"))'
    own = subprocess.run([python, '-c', query],
                         capture_output=True,
                         text=True,
                         check=True).stdout.strip()
    outer = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        outer.append(site.getusersitepackages())
    # addsitedir also runs the .pth files there (editable installs).
    Path(own, '_outer_environment.pth').write_text(''.join(
        f'import site; site.addsitedir({d!r})\n' for d in outer))
    return python


def tool_module(script: str) -> ModuleType:
    """A module of tools/ (e.g. ``tools/analysis_tools/benchmarking.py``),
    imported once under its file's name, as the scripts beside it import
    it."""
    name = Path(script).stem
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / script)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def make_toy(root: Path, task: str) -> None:
    run_tool(root, 'tools/make_toy_data.py', '--task', task)


def run_tool(cwd: Path,
             script: str,
             *args,
             check: bool = True,
             env: dict = None) -> subprocess.CompletedProcess:
    """Runs a script of tools/ (.py with this Python, .sh with bash)."""
    path = str(REPO / script)
    command = ([sys.executable, path]
               if path.endswith('.py') else ['bash', path])
    result = subprocess.run(
        command + [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            **(env or {})
        })
    if check and result.returncode != 0:
        raise AssertionError(
            f'{script} failed ({result.returncode}):\n'
            f'{result.stdout[-3000:]}\n{result.stderr[-6000:]}')
    return result


def save_untrained_checkpoint(config: Path, path: Path) -> Path:
    """Saves the freshly initialized model of a config (the baseline a
    trained model must beat) as a checkpoint tools/test.py can load."""
    import torch

    from mmdualtoken.apis import init_model

    model = init_model(str(config))
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def tool_metrics(cwd: Path, config: Path, checkpoint: Path, work_dir: Path,
                 *args) -> dict:
    """The metrics tools/test.py writes to WORK_DIR/metrics.json (and
    prints)."""
    import json
    result = run_tool(cwd, 'tools/test.py', config, checkpoint, '--work-dir',
                      work_dir, *args)
    metrics = json.loads((Path(work_dir) / 'metrics.json').read_text())
    assert all(name in result.stdout for name in metrics), result.stdout
    return metrics


def printed_metric(result: subprocess.CompletedProcess, name: str) -> float:
    """The last value of a metric that a host tool's log printed."""
    import re
    found = re.findall(rf'{re.escape(name)}: ([-\d.]+)',
                       result.stdout + result.stderr)
    assert found, f'{name} not printed'
    return float(found[-1])


def one_and_two_process_metrics(cwd: Path, config: Path, checkpoint: Path,
                                work_dir: Path) -> tuple:
    """The metrics of tools/test.py and of tools/dist_test.sh with two
    processes, for the same checkpoint."""
    import json
    single = tool_metrics(cwd, config, checkpoint, work_dir / 'test_single')
    run_tool(cwd, 'tools/dist_test.sh', config, checkpoint, 2, '--work-dir',
             work_dir / 'test_dist')
    double = json.loads((work_dir / 'test_dist/metrics.json').read_text())
    return single, double


def assert_detector_trains(model,
                           size: tuple,
                           with_mask: bool = True,
                           global_tokens=None):
    """One training step of an mmdet detector on two random images of
    ``size``: the loss is finite and reaches the backbone's global tokens
    (``model.backbone.global_tokens`` unless given)."""
    import torch
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(
        2, [(3, *size)] * 2,
        num_items=[3, 2],
        num_classes=80,
        with_mask=with_mask)
    model.train()
    losses = model(**model.data_preprocessor(packed, True), mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    if global_tokens is None:
        global_tokens = model.backbone.global_tokens
    assert global_tokens.grad is not None


def assert_real_picture(path: Path,
                        size: tuple = None,
                        min_colours: int = 10) -> None:
    """A PNG that opens, has the expected (width, height) and more than
    ``min_colours`` colours."""
    import numpy as np
    from PIL import Image
    image = Image.open(path)
    assert image.format == 'PNG', image.format
    if size is not None:
        assert image.size == size, image.size
    pixels = np.asarray(image.convert('RGB')).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > min_colours


def assert_side_by_side(path, image_size: tuple, panels: int) -> None:
    """A picture of ``panels`` panels side by side under their titles, each
    the image (``image_size``, (width, height)) scaled up by a whole factor
    to at least 512 px on its long side."""
    import math
    factor = max(1, math.ceil(512 / max(image_size)))
    width, height = (side * factor for side in image_size)
    assert_real_picture(path, (panels * width, height + 36), min_colours=50)
