"""Classification end to end: toy ImageNet through tools/train.py,
tools/test.py and the distributed launchers, on CPU processes."""
import hashlib
import subprocess
import sys

import pytest
import torch
from helpers import (CLS_DEMO, REPO, one_and_two_process_metrics,
                     printed_metric, run_tool, save_untrained_checkpoint,
                     tool_metrics)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

DEMO = CLS_DEMO
CONFIGS = sorted((REPO / 'configs/classification').glob('dualtoken-vit-*.py'))


@pytest.fixture
def trained(trained_classifier):
    """The demo trained once (tests/conftest.py): (work dir, checkpoint)."""
    return trained_classifier


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_and_predicts_logits(config):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(str(config))
    assert cfg.model.backbone.type == 'mmdualtoken.DualTokenViT'
    model = MODELS.build(cfg.model).eval()
    logits = model(torch.rand(2, 3, 224, 224), mode='tensor')
    assert logits.shape == (2, 1000)


def test_recipe_matches_the_paper():
    cfg = Config.fromfile(str(CONFIGS[-1]))
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.04
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys[
        '.global_tokens'].decay_mult == 0
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.model.backbone.drop_path_rate == 0.1


def test_train_then_test_beats_chance_and_untrained_model(toy_root, trained):
    work_dir, checkpoint = trained
    top1 = tool_metrics(toy_root, DEMO, checkpoint,
                        work_dir / 'test')['accuracy/top1']
    untrained = save_untrained_checkpoint(DEMO, work_dir / 'untrained.pth')
    untrained_top1 = tool_metrics(toy_root, DEMO, untrained,
                                  work_dir / 'test_untrained')['accuracy/top1']
    # 4 balanced classes: chance is 25 %.
    assert top1 >= 90, top1
    assert top1 >= untrained_top1 + 50, (top1, untrained_top1)


def test_checkpoint_loads_into_a_backbone_with_pretrained_prefix(trained):
    from mmdualtoken.models import DualTokenViT
    _, checkpoint = trained
    backbone = DualTokenViT(
        arch='t',
        out_indices=(0, 1, 2),
        global_token_grid=Config.fromfile(
            str(DEMO)).model.backbone.global_token_grid,
        init_cfg=dict(
            type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.'))
    backbone.init_weights()
    saved = torch.load(checkpoint)['state_dict']  # weights_only=True
    torch.testing.assert_close(backbone.global_tokens,
                               saved['backbone.global_tokens'])


def test_resume_continues_from_the_checkpoint(toy_root, trained):
    work_dir, _ = trained
    resumed = toy_root / 'work_dirs/cls_resumed'
    result = run_tool(toy_root, 'tools/train.py', DEMO, '--work-dir', resumed,
                      '--resume', work_dir / 'epoch_16.pth', '--cfg-options',
                      'train_cfg.max_epochs=17')
    assert 'resumed epoch: 16' in result.stdout + result.stderr
    assert (resumed / 'epoch_17.pth').is_file()


def test_amp_without_cuda_stops_with_a_clear_message(toy_root):
    result = run_tool(
        toy_root,
        'tools/train.py',
        DEMO,
        '--amp',
        check=False,
        env=dict(CUDA_VISIBLE_DEVICES=''))
    assert result.returncode != 0
    assert '--amp needs a CUDA device' in result.stderr


def test_two_process_training_and_testing_agree_with_one(toy_root, trained):
    work_dir, checkpoint = trained
    dist_dir = toy_root / 'work_dirs/cls_dist'
    run_tool(toy_root, 'tools/dist_train.sh', DEMO, 2, '--work-dir', dist_dir,
             '--cfg-options', 'train_cfg.max_epochs=2')
    assert (dist_dir / 'epoch_2.pth').is_file()

    single, double = one_and_two_process_metrics(toy_root, DEMO, checkpoint,
                                                 work_dir)
    assert double['accuracy/top1'] == pytest.approx(single['accuracy/top1'])


def test_show_dir_and_tta_are_mmpretrains_own(toy_root, trained):
    """--show-dir and --tta hand the run to mmpretrain's tools/test.py."""
    work_dir, checkpoint = trained
    show_dir = work_dir / 'painted'
    result = run_tool(toy_root, 'tools/test.py', DEMO, checkpoint,
                      '--work-dir', work_dir / 'test_painted', '--show-dir',
                      show_dir)
    assert ("handing over to mmpretrain's own tools/test.py"
            in result.stdout + result.stderr)
    images = list((toy_root / 'data/toy/imagenet/val').glob('*.JPEG'))
    painted = list(show_dir.rglob('*.png'))
    assert len(painted) == len(images) > 0
    output = run_tool(toy_root, 'tools/test.py', DEMO, checkpoint,
                      '--work-dir', work_dir / 'test_tta', '--tta')
    assert printed_metric(output, 'accuracy/top1') >= 90


def test_published_checkpoint_loads_without_mmdualtoken(
        toy_root, trained, tmp_path):
    _, checkpoint = trained
    result = run_tool(toy_root, 'tools/model_converters/publish_model.py',
                      checkpoint, tmp_path / 'dt_vit_t_toy.pth')
    published, = tmp_path.glob('dt_vit_t_toy_*.pth')
    assert str(published) in result.stdout
    digest = hashlib.sha256(published.read_bytes()).hexdigest()
    assert published.name.endswith(f'-{digest[:8]}.pth')
    # A plain torch.load (weights_only=True), nothing of ours imported.
    code = ('import sys, torch; c = torch.load(sys.argv[1]); '
            'assert set(c) == {"meta", "state_dict"}, set(c); '
            'assert "mmdualtoken" not in sys.modules')
    subprocess.run([sys.executable, '-c', code, str(published)], check=True)
    saved = torch.load(checkpoint)['state_dict']
    for key, value in torch.load(published)['state_dict'].items():
        assert torch.equal(value, saved[key]), key


def test_image_demo_and_mmpretrain_inferencer(toy_root, trained, tmp_path,
                                              monkeypatch):
    from helpers import assert_side_by_side
    from mmpretrain.apis import ImageClassificationInferencer

    from mmdualtoken.apis import draw_validation_sample, init_inferencer
    _, checkpoint = trained
    image = toy_root / 'data/toy/imagenet/val/ILSVRC2012_val_00000001.JPEG'
    inferencer = init_inferencer(str(DEMO), str(checkpoint))
    assert isinstance(inferencer, ImageClassificationInferencer)
    scores = inferencer(str(image))[0]['pred_scores']
    assert scores.shape == (4, ) and abs(float(scores.sum()) - 1) < 1e-4
    result = run_tool(toy_root, 'demo/image_demo.py', DEMO, checkpoint, image,
                      '--out-dir', tmp_path)
    picture = tmp_path / 'ILSVRC2012_val_00000001.png'
    assert result.stdout.rstrip().endswith(str(picture))
    # The image beside its top classes.
    from PIL import Image
    assert_side_by_side(picture, Image.open(image).size, 2)
    # A validation sample: the image, its class and the prediction.
    monkeypatch.chdir(toy_root)  # the config's data root is relative
    drawn = draw_validation_sample(
        str(DEMO), str(checkpoint), tmp_path / 'val')
    assert_side_by_side(drawn, Image.open(image).size, 3)
