"""What ``import mmdualtoken`` changes in mmengine and torch
(mmdualtoken.host_patches), and that it fails loudly if mmengine moves it."""
import json
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import config as mmengine_config
from mmengine.runner import CheckpointLoader

from mmdualtoken import host_patches
from mmdualtoken.engine.checkpoint import (load_from_http_safely,
                                           load_from_local_safely)
from mmdualtoken.errors import UnsafeCheckpointError

SAFE = {
    load_from_local_safely, load_from_http_safely,
    host_patches.load_from_model_zoo_safely,
    host_patches.load_from_object_store_safely
}


def mmengines_own_schemes() -> list:
    """The schemes mmengine registers, read in a process without us."""
    code = ('import json; from mmengine.runner import CheckpointLoader; '
            'print(json.dumps(list(CheckpointLoader._schemes)))')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_every_scheme_mmengine_registers_is_safe_or_refused():
    schemes = mmengines_own_schemes()
    assert {'', 'http://', 'modelzoo://', 'pavi://'} <= set(schemes)
    for prefix in schemes:
        loader = CheckpointLoader._schemes[prefix]
        assert loader in SAFE or getattr(loader, 'refuses', None) == prefix, \
            prefix
    with pytest.raises(UnsafeCheckpointError, match='pavi://'):
        CheckpointLoader.load_checkpoint('pavi://model.pth')


class RunsACommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_a_file_planted_under_a_model_zoo_name_is_refused(
        tmp_path, monkeypatch):
    """``modelzoo://`` (mmengine's old alias of ``torchvision://``) reads
    torch hub's cache: a file planted there must not run."""
    from mmengine.runner.checkpoint import get_torchvision_models
    url = get_torchvision_models()['resnet18']
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cache = tmp_path / 'hub/checkpoints'
    cache.mkdir(parents=True)
    marker = tmp_path / 'ran'
    torch.save(dict(evil=RunsACommand(marker)), cache / url.split('/')[-1])
    for prefix in ('modelzoo://', 'torchvision://'):
        with pytest.raises(UnsafeCheckpointError, match='posix.system'):
            CheckpointLoader.load_checkpoint(f'{prefix}resnet18')
    assert not marker.exists()


def test_safe_loading_can_be_turned_off_and_on():
    try:
        host_patches.use_safe_loading(False)
        assert CheckpointLoader._schemes[''] is not load_from_local_safely
    finally:
        host_patches.use_safe_loading(True)
    assert CheckpointLoader._schemes[''] is load_from_local_safely
    code = (
        'import mmdualtoken; from mmengine.runner import '
        'CheckpointLoader, checkpoint; '
        'assert CheckpointLoader._schemes[""] is checkpoint.load_from_local')
    subprocess.run([sys.executable, '-c', code],
                   check=True,
                   env={
                       **os.environ, 'MMDUALTOKEN_SAFE_LOADING': '0'
                   })


def test_our_configs_resolve_to_this_package():
    assert mmengine_config.get_installed_path(
        'mmdualtoken') == host_patches.PACKAGE_DIR
    assert mmengine_config.get_installed_path('mmdet').endswith('mmdet')


def test_a_changed_host_fails_loudly(monkeypatch):
    monkeypatch.delattr(CheckpointLoader, '_schemes')
    with pytest.raises(host_patches.HostChangedError, match='_schemes'):
        host_patches.use_safe_loading(True)
    monkeypatch.undo()
    from mmengine.config import utils
    monkeypatch.delattr(utils, 'MODULE2PACKAGE')
    with pytest.raises(host_patches.HostChangedError, match='MODULE2PACKAGE'):
        host_patches.register_config_package()
    monkeypatch.undo()
    from mmengine.runner import Runner
    monkeypatch.setattr(Runner, 'register_default_hooks', None)
    with pytest.raises(host_patches.HostChangedError, match='default_hooks'):
        host_patches.default_hooks_off_by_none()
