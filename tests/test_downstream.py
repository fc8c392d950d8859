"""A downstream project: a config in another directory inherits ours by
``mmdualtoken::`` and runs through mmdet's own tools, from a wheel of the
package installed in a fresh environment."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch
from helpers import REPO, environment_seeing_this_one
from mmengine.config import Config

EXAMPLE = REPO / 'examples/downstream'
DET_CONFIG = 'configs/mask-rcnn_dualtoken-vit-t_toy-two-classes.py'


def run(python, *args, cwd):
    result = subprocess.run([str(python), *map(str, args)],
                            cwd=cwd,
                            capture_output=True,
                            text=True,
                            env={
                                **os.environ, 'PYTHONPATH': ''
                            })
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-6000:])
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory):
    """A virtual environment seeing this machine's packages, with
    mmdualtoken installed from a wheel built from this checkout."""
    root = tmp_path_factory.mktemp('downstream')
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-w',
        str(root / 'dist'),
        str(REPO)
    ],
                   check=True,
                   capture_output=True)
    wheel, = (root / 'dist').glob('mmdualtoken-*.whl')
    python = environment_seeing_this_one(root / 'venv')
    subprocess.run([
        sys.executable, '-m', 'pip', '--python',
        str(python), 'install', '--no-deps', '--no-index',
        str(wheel)
    ],
                   check=True,
                   capture_output=True)
    return root, python


def readme_commands(name: str) -> str:
    readme = (REPO / 'README.md').read_text()
    match = re.search(rf'<!-- commands: {name} -->\n```bash\n(.*?)```', readme,
                      re.S)
    assert match, f'commands {name} not found in the README'
    return match.group(1)


def test_readme_project_commands_run_from_a_wheel(wheel_env):
    """The README's "Use in your project" block, as it stands, in a copy of
    the example project outside the checkout, with mmdualtoken from a
    wheel: each host's own train.py and test.py, each config's change in
    the trained weights."""
    root, python = wheel_env
    where = run(
        python,
        '-c',
        'import mmdualtoken; print(mmdualtoken.__file__)',
        cwd=root)
    assert str(root / 'venv') in where and str(REPO) not in where
    shutil.copytree(EXAMPLE, root / 'examples/downstream')
    result = subprocess.run(
        ['bash', '-e', '-c', readme_commands('downstream')],
        cwd=root,
        capture_output=True,
        text=True,
        env={
            **os.environ, 'PYTHONPATH': '',
            'PATH': f'{python.parent}{os.pathsep}{os.environ["PATH"]}'
        })
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    for metric in ('coco/bbox_mAP:', 'coco/segm_mAP:', 'mIoU:',
                   'accuracy/top1:'):
        assert metric in output, metric
    project = root / 'examples/downstream'
    dumped = Config.fromfile(
        str(project / 'work_dirs/det' / os.path.basename(DET_CONFIG)))
    assert dumped.train_dataloader.dataset.metainfo.classes == ('square',
                                                                'disc')
    assert dumped.model.backbone.type == 'mmdualtoken.DualTokenViT'
    heads = {
        'det/epoch_1.pth': ('roi_head.bbox_head.fc_cls.weight', 2 + 1),
        'seg/iter_40.pth': ('decode_head.conv_seg.weight', 4),
        'cls/epoch_2.pth': ('head.fc.weight', 4),
    }
    for path, (key, classes) in heads.items():
        state = torch.load(
            project / 'work_dirs' / path,
            map_location='cpu',
            weights_only=False)['state_dict']
        assert state[key].shape[0] == classes, (path, state[key].shape)
        assert any(k.startswith('backbone.stages') for k in state), path


def test_fromfile_after_import_and_the_message_before(tmp_path):
    config = tmp_path / 'mine.py'
    config.write_text("_base_ = 'mmdualtoken::detection/"
                      "mask-rcnn_dualtoken-vit-s_fpn_8xb2-1x_coco.py'\n"
                      'model = dict(roi_head=dict(bbox_head=dict('
                      'num_classes=8)))\n')
    import mmdualtoken  # noqa: F401
    cfg = Config.fromfile(str(config))
    assert cfg.model.backbone.arch == 's'
    assert cfg.model.roi_head.bbox_head.num_classes == 8
    without = subprocess.run([
        sys.executable, '-c', 'from mmengine.config import Config; '
        f'Config.fromfile({str(config)!r})'
    ],
                             capture_output=True,
                             text=True,
                             cwd=tmp_path)
    assert 'does not support to load mmdualtoken config' in without.stderr


def without_our_scope_tags(node):
    """A resolved config without the ``_scope_='mmdualtoken'`` tags that
    mmengine gives the dicts of an ``mmdualtoken::`` base."""
    if isinstance(node, dict):
        return {
            k: without_our_scope_tags(v)
            for k, v in node.items()
            if not (k == '_scope_' and v == 'mmdualtoken')
        }
    if isinstance(node, (list, tuple)):
        return type(node)(without_our_scope_tags(v) for v in node)
    return node


@pytest.mark.parametrize('base', [
    'classification/demo/dualtoken-vit-t_1xb32-16e_toy-imagenet-32px.py',
    'detection/demo/mask-rcnn_dualtoken-vit-t_fpn_1xb8-6e_toy-coco.py',
    'segmentation/demo/pspnet_dualtoken-vit-t_1xb8-400_toy-ade20k-96x96.py',
])
def test_inherited_config_resolves_as_ours_loaded_by_path(base, tmp_path):
    """mmengine tags the dicts of a ``pkg::`` base with ``_scope_=pkg``.
    Ours build the same under that tag: the types that only a host
    registers say their scope (the classifier, the visualizer, mmdet's batch
    sampler), and the rest are mmengine's or ours."""
    from mmengine.registry import (DATA_SAMPLERS, MODELS, VISUALIZERS,
                                   DefaultScope)

    import mmdualtoken  # noqa: F401
    config = tmp_path / 'mine.py'
    config.write_text(f"_base_ = 'mmdualtoken::{base}'\n")
    inherited = Config.fromfile(str(config))
    direct = Config.fromfile(str(REPO / 'configs' / base))
    assert without_our_scope_tags(inherited.to_dict()) == direct.to_dict()
    with DefaultScope.overwrite_default_scope(direct.default_scope):
        MODELS.build(inherited.model)
        VISUALIZERS.build({**inherited.visualizer, 'name': base})
        sampler = inherited.train_dataloader.batch_sampler.get('batch_sampler')
        if sampler:
            assert DATA_SAMPLERS.get(sampler.type) is not None


def test_unknown_host_tool_says_where_it_looked(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'mmdualtoken', 'mmdet', 'no_such_tool.py'],
        capture_output=True,
        text=True,
        cwd=tmp_path)
    assert result.returncode != 0
    assert "mmdet has no tool 'no_such_tool.py'" in result.stderr
