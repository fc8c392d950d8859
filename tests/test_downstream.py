"""A downstream project: a config in another directory inherits ours by
``mmdualtoken::`` and runs through mmdet's own tools, from a wheel of the
package installed in a fresh environment."""
import os
import shutil
import subprocess
import sys
import venv

import pytest
from helpers import REPO
from mmengine.config import Config

EXAMPLE = REPO / 'examples/downstream'
CONFIG = 'configs/mask-rcnn_dualtoken-vit-t_toy-two-classes.py'


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
    venv.create(root / 'venv', system_site_packages=True, with_pip=False)
    python = root / 'venv/bin/python'
    subprocess.run([
        sys.executable, '-m', 'pip', '--python',
        str(python), 'install', '--no-deps', '--no-index',
        str(wheel)
    ],
                   check=True,
                   capture_output=True)
    return root, python


def test_config_inherits_ours_from_the_installed_package(wheel_env):
    root, python = wheel_env
    where = run(
        python,
        '-c',
        'import mmdualtoken; print(mmdualtoken.__file__)',
        cwd=root)
    assert str(root / 'venv') in where and str(REPO) not in where
    project = root / 'project'
    shutil.copytree(EXAMPLE, project)
    run(python,
        '-c', 'from mmdualtoken.toy_data import make_toy_coco; '
        'make_toy_coco("data/toy/coco")',
        cwd=project)
    # As the example's README says, shortened to 4 iterations of training
    # and 8 test images.
    trained = run(
        python,
        '-m',
        'mmdualtoken',
        'mmdet',
        'train.py',
        CONFIG,
        '--work-dir',
        'work_dirs/two',
        '--cfg-options',
        'train_cfg.max_epochs=1',
        'train_dataloader.dataset.indices=16',
        cwd=project)
    assert 'Epoch(train) [1][4/4]' in trained
    assert (project / 'work_dirs/two/epoch_1.pth').is_file()
    tested = run(
        python,
        '-m',
        'mmdualtoken',
        'mmdet',
        'test.py',
        CONFIG,
        'work_dirs/two/epoch_1.pth',
        '--cfg-options',
        'test_dataloader.dataset.indices=8',
        cwd=project)
    assert 'coco/bbox_mAP:' in tested and 'coco/segm_mAP:' in tested
    dumped = Config.fromfile(
        str(project / 'work_dirs/two' / os.path.basename(CONFIG)))
    assert dumped.train_dataloader.dataset.metainfo.classes == ('square',
                                                                'disc')
    assert dumped.model.backbone.type == 'mmdualtoken.DualTokenViT'


def test_fromfile_after_import_and_the_message_before(tmp_path):
    config = tmp_path / 'mine.py'
    config.write_text("_base_ = 'mmdualtoken::detection/"
                      "maskrcnn_dt_vit_s_8xb2_1x_coco.py'\n"
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


def test_unknown_host_tool_says_where_it_looked(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'mmdualtoken', 'mmdet', 'no_such_tool.py'],
        capture_output=True,
        text=True,
        cwd=tmp_path)
    assert result.returncode != 0
    assert "mmdet has no tool 'no_such_tool.py'" in result.stderr
