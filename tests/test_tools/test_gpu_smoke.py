"""The GPU smoke script, on its CPU path: the four demo configs trained and
tested through the launchers, and a run stopped by SIGTERM and resumed."""
import json

import pytest
from helpers import make_toy, run_tool


@pytest.mark.e2e
def test_gpu_smoke_runs_and_reports_on_cpu(toy_root, tmp_path):
    for task in ('cls', 'det', 'seg'):
        make_toy(toy_root, task)
    out = tmp_path / 'smoke.json'
    run_tool(toy_root, 'tools/analysis_tools/gpu_smoke.py', '--gpus', 1,
             '--images', 8, '--iters', 4, '--work-dir', tmp_path / 'work',
             '--out', out)
    report = json.loads(out.read_text())
    assert report['processes'] == 1 and report['amp'] is False
    expected = dict(
        mask_rcnn={'coco/bbox_mAP', 'coco/segm_mAP'},
        retinanet={'coco/bbox_mAP'},
        deeplabv3={'mIoU'},
        classifier={'accuracy/top1'})
    for job, metrics in expected.items():
        figures = report['jobs'][job]
        assert metrics <= set(figures['metrics']), (job, figures)
        assert figures['seconds_per_iter'] > 0
    resumed = report['stop_and_resume']
    assert resumed['stopped_at'].startswith('preempted_iter_')
    assert resumed['finished'] and resumed['exit_seconds'] < 20
