"""Checkpoint tools: the backbone of a classifier checkpoint feeds every
detection and segmentation config."""
import pytest
import torch
from helpers import REPO, run_tool

from mmdualtoken.apis import init_model

TASK_CONFIGS = sorted([
    *(REPO / 'configs/detection').glob('*_dualtoken-vit-[ts]_*.py'),
    *(REPO / 'configs/segmentation').glob('*_dualtoken-vit-[ts]_*.py'),
])


@pytest.fixture(scope='module')
def backbones(tmp_path_factory):
    """Per arch: the classifier's backbone weights and the extracted
    checkpoint made from a full training-style checkpoint."""
    root = tmp_path_factory.mktemp('extract')
    made = {}
    for arch in ('t', 's'):
        classifier = init_model(
            str(REPO /
                f'configs/classification/dualtoken-vit-{arch}_8xb128_in1k.py'))
        full = root / f'{arch}_full.pth'
        torch.save(
            dict(
                state_dict=classifier.state_dict(),
                optimizer=dict(state={}),
                meta=dict(epoch=300)), full)
        out = root / f'{arch}_backbone.pth'
        result = run_tool(root, 'tools/model_converters/extract_backbone.py',
                          full, out)
        expected = classifier.backbone.state_dict()
        assert f'{len(expected)} backbone tensors' in result.stdout
        made[arch] = (expected, out)
    return made


def test_extracted_file_holds_only_the_backbone(backbones):
    expected, out = backbones['t']
    saved = torch.load(out, weights_only=True)
    assert set(saved) == {'state_dict'}
    assert set(saved['state_dict']) == {f'backbone.{k}' for k in expected}


@pytest.mark.parametrize('config', TASK_CONFIGS, ids=lambda p: p.stem)
def test_every_backbone_weight_loads_into_each_task_config(config, backbones):
    arch = 's' if 'dualtoken-vit-s_' in config.name else 't'
    expected, out = backbones[arch]
    model = init_model(str(config), cfg_options=dict(pretrained=str(out)))
    loaded = model.backbone.state_dict()
    # The task backbones add output norms for the stages the classifier
    # does not output; everything else comes from the checkpoint.
    assert set(expected) <= set(loaded)
    assert {key.split('.')[0]
            for key in set(loaded) - set(expected)} <= {'norm0', 'norm1'}
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def test_a_checkpoint_without_a_backbone_is_refused(tmp_path):
    bare = tmp_path / 'bare.pth'
    torch.save({'stem.proj.weight': torch.zeros(1)}, bare)
    result = run_tool(
        tmp_path,
        'tools/model_converters/extract_backbone.py',
        bare,
        tmp_path / 'out.pth',
        check=False)
    assert result.returncode != 0 and "no key starts with 'backbone.'" in \
        result.stderr
    assert not (tmp_path / 'out.pth').exists()
