"""Checkpoint loading: code is refused on every path with our message,
numpy 1.x and 2.x files load, and the usual state-dict layouts fit."""
import functools
import http.server
import io
import os
import threading
import zipfile

import numpy as np
import pytest
import torch
from helpers import REPO, run_tool
from mmengine.runner import CheckpointLoader

from mmdualtoken.engine.checkpoint import load_weights_strictly
from mmdualtoken.errors import CheckpointError, UnsafeCheckpointError
from mmdualtoken.models import DualTokenViT


class RunsACommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / 'command_ran'
    path = tmp_path / 'evil.pth'
    state = DualTokenViT(arch='t').state_dict()
    torch.save(dict(state_dict=state, meta=RunsACommand(marker)), path)
    return path, marker


def test_code_in_a_checkpoint_is_refused_on_every_loading_path(
        evil_checkpoint, tmp_path):
    path, marker = evil_checkpoint
    with pytest.raises(UnsafeCheckpointError) as error:
        CheckpointLoader.load_checkpoint(str(path))
    message = str(error.value)
    assert str(path) in message and 'posix.system' in message
    assert 'weights_only' not in message

    backbone = DualTokenViT(
        arch='t', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(UnsafeCheckpointError):
        backbone.init_weights()

    config = REPO / 'configs/classification/dualtoken-vit-t_8xb128_in1k.py'
    (tmp_path / 'data/imagenet').mkdir(parents=True)  # the config's root
    result = run_tool(tmp_path, 'tools/test.py', config, path, check=False)
    assert result.returncode != 0
    assert f'Refused to load {path}' in result.stderr
    assert 'weights_only=False' not in result.stderr
    assert not marker.exists()


def numpy1_checkpoint(path, tmp_path):
    """Rewrites a checkpoint as numpy 1.x pickles it (numpy.core.*)."""
    buffer = io.BytesIO()
    torch.save(
        dict(
            state_dict={'w': torch.ones(2)},
            meta=dict(seed=np.int64(3), mean=np.ones(2))), buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, 'w') as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith('data.pkl'):
                assert b'numpy._core.multiarray' in data
                data = data.replace(b'numpy._core.multiarray',
                                    b'numpy.core.multiarray')
            target.writestr(item, data)
    return path


def test_numpy_1_and_2_checkpoints_load(tmp_path):
    old = numpy1_checkpoint(tmp_path / 'numpy1.pth', tmp_path)
    loaded = CheckpointLoader.load_checkpoint(str(old))
    assert loaded['meta']['seed'] == 3
    assert np.array_equal(loaded['meta']['mean'], np.ones(2))
    new = tmp_path / 'numpy2.pth'
    torch.save(dict(meta=dict(seed=np.int64(3))), new)
    assert CheckpointLoader.load_checkpoint(str(new))['meta']['seed'] == 3


@pytest.mark.parametrize('layout', ['bare', 'state_dict', 'model', 'module'])
def test_state_dict_layouts_load_strictly(layout, tmp_path):
    source = DualTokenViT(arch='t')
    state = source.state_dict()
    saved = {
        'bare': state,
        'state_dict': dict(state_dict=state, meta=dict(epoch=3)),
        'model': dict(model=state, epoch=3),
        'module': {
            f'module.{k}': v
            for k, v in state.items()
        },
    }[layout]
    torch.save(saved, tmp_path / 'weights.pth')
    target = DualTokenViT(arch='t')
    load_weights_strictly(target, str(tmp_path / 'weights.pth'))
    for key, value in target.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_mismatched_weights_stop_with_a_short_summary(tmp_path):
    torch.save(DualTokenViT(arch='t').state_dict(), tmp_path / 't.pth')
    with pytest.raises(CheckpointError) as stop:
        load_weights_strictly(DualTokenViT(arch='s'), str(tmp_path / 't.pth'))
    message = str(stop.value)
    assert 'shape mismatches' in message and 'missing keys' in message
    assert 'global_tokens (1, 7, 7, 48) vs (1, 7, 7, 64)' in message
    assert len(message.splitlines()) == 1


def test_checkpoints_over_http_load_safely(evil_checkpoint, tmp_path,
                                           monkeypatch):
    path, marker = evil_checkpoint
    good = tmp_path / 'good.pth'
    torch.save(
        dict(
            state_dict=DualTokenViT(arch='t').state_dict(),
            meta=dict(seed=np.int64(1))), good)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f'http://127.0.0.1:{server.server_address[1]}'
    try:
        loaded = CheckpointLoader.load_checkpoint(f'{base}/good.pth')
        assert loaded['meta']['seed'] == 1
        with pytest.raises(UnsafeCheckpointError, match='posix.system'):
            CheckpointLoader.load_checkpoint(f'{base}/evil.pth')
    finally:
        server.shutdown()
    assert not marker.exists()


def test_model_zoo_names_load_safely(evil_checkpoint, tmp_path, monkeypatch):
    """``open-mmlab://`` (and the other model-zoo prefixes) resolve as in
    mmengine, here to files of a user's open_mmlab.json, and are read with
    the same refusal of code."""
    path, marker = evil_checkpoint
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=DualTokenViT(arch='t').state_dict()), good)
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    (tmp_path / 'open_mmlab.json'
     ).write_text('{"dualtoken_t": "good.pth", "dualtoken_evil": "evil.pth"}')
    for prefix in ('open-mmlab://', 'openmmlab://'):
        loaded = CheckpointLoader.load_checkpoint(f'{prefix}dualtoken_t')
        assert loaded['state_dict'].keys() == DualTokenViT(
            arch='t').state_dict().keys()
        with pytest.raises(UnsafeCheckpointError, match='posix.system'):
            CheckpointLoader.load_checkpoint(f'{prefix}dualtoken_evil')
    assert not marker.exists()
    load_weights_strictly(DualTokenViT(arch='t'), 'open-mmlab://dualtoken_t')
