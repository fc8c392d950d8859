"""Semantic segmentation: configs build and run on odd sizes; toy ADE20K
end to end through tools/train.py and tools/test.py."""
import numpy as np
import pytest
import torch
from helpers import (PSPNET_DEMO, REPO, SEG_DEMO, make_toy,
                     one_and_two_process_metrics, run_tool,
                     save_untrained_checkpoint, tool_metrics)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from PIL import Image

DEMO = SEG_DEMO
CONFIGS = sorted((REPO / 'configs/segmentation').glob('*.py'))
SIZE = (333, 501)


def batch(num_classes: int) -> dict:
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=SIZE, ori_shape=SIZE))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, *SIZE)))
        samples.append(sample)
    images = [
        torch.randint(0, 256, (3, *SIZE), dtype=torch.uint8) for _ in range(2)
    ]
    return dict(inputs=images, data_samples=samples)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_and_predicts_input_sized_label_maps(config):
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.init_cfg = None  # no ImageNet checkpoint here
    cfg.model.data_preprocessor.size = None  # odd sizes, no crop padding
    cfg.model.data_preprocessor.size_divisor = 32
    # A single CPU process: SyncBN as BN, as the tools do.
    cfg.model.decode_head.norm_cfg = cfg.model.auxiliary_head.norm_cfg = \
        dict(type='BN', requires_grad=True)
    model = MODELS.build(cfg.model)
    model.init_weights()

    model.train()
    data = model.data_preprocessor(batch(150), True)
    total, _ = model.parse_losses(model(**data, mode='loss'))
    assert torch.isfinite(total)
    total.backward()

    model.eval()
    with torch.no_grad():
        results = model(
            **model.data_preprocessor(batch(150), False), mode='predict')
    assert [r.pred_sem_seg.data.shape for r in results] == [(1, *SIZE)] * 2


@pytest.fixture(scope='module')
def trained(toy_root):
    make_toy(toy_root, 'seg')
    work_dir = toy_root / 'work_dirs/seg'
    run_tool(toy_root, 'tools/train.py', DEMO, '--work-dir', work_dir)
    return work_dir, work_dir / 'iter_400.pth'


def test_train_then_test_beats_the_untrained_model(toy_root, trained):
    work_dir, checkpoint = trained
    out_dir = work_dir / 'label_maps'
    metrics = tool_metrics(toy_root, DEMO, checkpoint, work_dir / 'test',
                           '--cfg-options',
                           f'test_evaluator.output_dir={out_dir}',
                           'test_evaluator.keep_results=True')
    untrained = save_untrained_checkpoint(DEMO, work_dir / 'untrained.pth')
    baseline = tool_metrics(toy_root, DEMO, untrained,
                            work_dir / 'test_untrained')
    assert metrics['mIoU'] >= 60, metrics
    assert metrics['mIoU'] >= baseline['mIoU'] + 30, (metrics, baseline)

    # output_dir holds one label map per validation image, at its size.
    images = sorted(
        (toy_root / 'data/toy/ade20k/images/validation').glob('*.jpg'))
    maps = sorted(out_dir.glob('*.png'))
    assert [m.stem for m in maps] == [i.stem for i in images]
    label_map = np.asarray(Image.open(maps[0]))
    assert label_map.shape == Image.open(images[0]).size[::-1]


def test_pspnet_demo_learns_the_toy_scenes(toy_root):
    make_toy(toy_root, 'seg')
    work_dir = toy_root / 'work_dirs/pspnet'
    run_tool(toy_root, 'tools/train.py', PSPNET_DEMO, '--work-dir', work_dir,
             '--no-validate')
    metrics = tool_metrics(toy_root, PSPNET_DEMO, work_dir / 'iter_400.pth',
                           work_dir / 'test')
    assert metrics['mIoU'] >= 60, metrics


def test_show_dir_paints_every_test_image_with_mmsegs_tool(toy_root, trained):
    work_dir, checkpoint = trained
    show_dir = work_dir / 'painted'
    result = run_tool(toy_root, 'tools/test.py', DEMO, checkpoint,
                      '--work-dir', work_dir / 'test_painted', '--show-dir',
                      show_dir)
    assert ("handing over to mmseg's own tools/test.py"
            in result.stdout + result.stderr)
    images = list(
        (toy_root / 'data/toy/ade20k/images/validation').glob('*.jpg'))
    painted = list(show_dir.rglob('*.png'))
    assert len(painted) == len(images) > 0


def test_two_process_testing_agrees_with_one(toy_root, trained):
    work_dir, checkpoint = trained
    single, double = one_and_two_process_metrics(toy_root, DEMO, checkpoint,
                                                 work_dir)
    assert double['mIoU'] == pytest.approx(single['mIoU'], abs=0.01)


def test_image_demo_and_mmseg_inferencer(toy_root, trained, tmp_path,
                                         monkeypatch):
    from helpers import assert_side_by_side
    from mmseg.apis import MMSegInferencer

    from mmdualtoken.apis import draw_validation_sample, init_inferencer
    _, checkpoint = trained
    image = toy_root / 'data/toy/ade20k/images/validation/ADE_val_00000001.jpg'
    inferencer = init_inferencer(str(DEMO), str(checkpoint))
    assert isinstance(inferencer, MMSegInferencer)
    label_map = inferencer(str(image))['predictions']
    size = Image.open(image).size
    assert label_map.shape == size[::-1] and len(np.unique(label_map)) > 1
    run_tool(toy_root, 'demo/image_demo.py', DEMO, checkpoint, image,
             '--out-dir', tmp_path)
    assert_side_by_side(tmp_path / 'ADE_val_00000001.png', size, 2)
    monkeypatch.chdir(toy_root)  # the config's data root is relative
    drawn = draw_validation_sample(
        str(DEMO), str(checkpoint), tmp_path / 'val')
    assert_side_by_side(drawn, size, 3)
