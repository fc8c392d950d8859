"""Detection and instance segmentation: configs build and run on odd
sizes; toy COCO end to end through tools/train.py and tools/test.py."""
import json
import math

import pytest
import torch
from helpers import (MASK_RCNN_DEMO, REPO, RETINANET_DEMO,
                     assert_detector_trains, make_toy,
                     one_and_two_process_metrics, run_tool,
                     save_untrained_checkpoint, tool_metrics)
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.registry import init_default_scope
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

DEMO = MASK_RCNN_DEMO
CONFIGS = sorted((REPO / 'configs/detection').glob('*.py'))


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_and_runs_on_odd_sizes(config):
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.init_cfg = None  # no ImageNet checkpoint here
    model = MODELS.build(cfg.model)
    model.init_weights()
    with_mask = 'roi_head' in cfg.model
    assert_detector_trains(model, (333, 501), with_mask)
    packed = demo_mm_inputs(
        2, [(3, 333, 501), (3, 333, 501)],
        num_items=[3, 2],
        num_classes=80,
        with_mask=with_mask)

    model.eval()
    with torch.no_grad():
        results = model(
            **model.data_preprocessor(packed, False), mode='predict')
    assert len(results) == 2
    bboxes = results[0].pred_instances.bboxes
    assert bboxes.shape[-1] == 4
    if with_mask and len(bboxes):
        assert results[0].pred_instances.masks.shape[-2:] == (333, 501)


def test_maskrcnn_keeps_five_levels_at_strides_4_to_64():
    init_default_scope('mmdet')
    cfg = Config.fromfile(
        str(REPO / 'configs/detection/maskrcnn_dt_vit_1x.py'))
    cfg.model.backbone.init_cfg = None
    assert cfg.model.backbone.arch == 's'
    model = MODELS.build(cfg.model).eval()
    feats = model.extract_feat(torch.rand(1, 3, 320, 480))
    assert [tuple(f.shape[-2:]) for f in feats] == [
        (math.ceil(320 / s), math.ceil(480 / s)) for s in (4, 8, 16, 32, 64)
    ]


@pytest.fixture(scope='module')
def trained(toy_root):
    make_toy(toy_root, 'det')
    work_dir = toy_root / 'work_dirs/det'
    run_tool(toy_root, 'tools/train.py', DEMO, '--work-dir', work_dir)
    return work_dir, work_dir / 'epoch_6.pth'


def test_train_then_test_beats_the_untrained_model(toy_root, trained):
    work_dir, checkpoint = trained
    prefix = work_dir / 'results'
    metrics = tool_metrics(toy_root, DEMO, checkpoint, work_dir / 'test',
                           '--cfg-options',
                           f'test_evaluator.outfile_prefix={prefix}')
    untrained = save_untrained_checkpoint(DEMO, work_dir / 'untrained.pth')
    baseline = tool_metrics(toy_root, DEMO, untrained,
                            work_dir / 'test_untrained')
    assert metrics['coco/bbox_mAP'] >= 0.5, metrics
    assert metrics['coco/segm_mAP'] >= 0.4, metrics
    for metric in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert metrics[metric] >= baseline[metric] + 0.3, (metric, metrics,
                                                           baseline)

    # outfile_prefix wrote COCO-format results, which pycocotools rates alike.
    ground_truth = COCO(
        str(toy_root / 'data/toy/coco/annotations/instances_val2017.json'))
    for iou_type in ('bbox', 'segm'):
        with open(f'{prefix}.{iou_type}.json') as f:
            assert json.load(f), iou_type
        evaluator = COCOeval(ground_truth,
                             ground_truth.loadRes(f'{prefix}.{iou_type}.json'),
                             iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        assert evaluator.stats[0] == pytest.approx(
            metrics[f'coco/{iou_type}_mAP'], abs=1e-3)


def test_retinanet_demo_learns_the_toy_boxes(toy_root):
    make_toy(toy_root, 'det')
    work_dir = toy_root / 'work_dirs/retinanet'
    run_tool(toy_root, 'tools/train.py', RETINANET_DEMO, '--work-dir',
             work_dir, '--no-validate')
    metrics = tool_metrics(toy_root, RETINANET_DEMO, work_dir / 'epoch_8.pth',
                           work_dir / 'test')
    # An untrained RetinaNet scores 0.000.
    assert metrics['coco/bbox_mAP'] >= 0.5, metrics

    # Nothing above the threshold: no metric, and the output says why.
    nothing = run_tool(toy_root, 'tools/test.py', RETINANET_DEMO,
                       work_dir / 'epoch_8.pth', '--work-dir',
                       work_dir / 'test_nothing', '--cfg-options',
                       'model.test_cfg.score_thr=1.01')
    assert 'the model detected nothing' in nothing.stdout, nothing.stdout
    assert json.loads(
        (work_dir / 'test_nothing/metrics.json').read_text()) == {}


def test_two_process_testing_agrees_with_one(toy_root, trained):
    work_dir, checkpoint = trained
    single, double = one_and_two_process_metrics(toy_root, DEMO, checkpoint,
                                                 work_dir)
    for metric in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert double[metric] == pytest.approx(single[metric], abs=1e-3)


def test_image_demo_and_det_inferencer(toy_root, trained, tmp_path,
                                       monkeypatch):
    from helpers import assert_side_by_side
    from mmdet.apis import DetInferencer
    from PIL import Image

    from mmdualtoken.apis import draw_validation_sample, init_inferencer
    _, checkpoint = trained
    image = sorted((toy_root / 'data/toy/coco/val2017').iterdir())[0]
    inferencer = init_inferencer(str(DEMO), str(checkpoint))
    assert isinstance(inferencer, DetInferencer)
    prediction = inferencer(str(image))['predictions'][0]
    assert len(prediction['bboxes']) == len(prediction['scores']) > 0
    assert max(prediction['scores']) > 0.3
    assert set(prediction['labels']) <= {0, 1, 2}
    run_tool(toy_root, 'demo/image_demo.py', DEMO, checkpoint, image,
             '--out-dir', tmp_path)
    assert_side_by_side(tmp_path / f'{image.stem}.png',
                        Image.open(image).size, 2)
    monkeypatch.chdir(toy_root)  # the config's data root is relative
    drawn = draw_validation_sample(
        str(DEMO), str(checkpoint), tmp_path / 'val')
    assert_side_by_side(drawn, Image.open(image).size, 3)
