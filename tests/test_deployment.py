"""ONNX export: one dynamic file serves several input sizes with
onnxruntime's outputs equal to PyTorch's."""
import pytest
from helpers import REPO, run_tool, save_untrained_checkpoint

CONFIG = REPO / 'configs/classification/dualtoken-vit-t_8xb128_in1k.py'

pytest.importorskip('onnxruntime')


def test_dynamic_classifier_export_matches_pytorch(tmp_path):
    checkpoint = save_untrained_checkpoint(CONFIG, tmp_path / 'weights.pth')
    result = run_tool(tmp_path, 'tools/deployment/pytorch2onnx.py', CONFIG,
                      checkpoint, '--dynamic', '--verify-shape', 225, 301)
    onnx_file = tmp_path / 'dualtoken-vit-t_8xb128_in1k.onnx'
    assert f'wrote {onnx_file}' in result.stdout
    line = result.stdout.splitlines()[-1]
    assert line.startswith('onnxruntime vs PyTorch at 224x224, 225x301')
    assert float(line.split('difference ')[1].split()[0]) <= 1e-4


def test_backbone_export_and_wrong_requests(tmp_path):
    out = tmp_path / 'backbone.onnx'
    result = run_tool(tmp_path, 'tools/deployment/pytorch2onnx.py', CONFIG,
                      '--backbone-only', '--shape', 96, 128, '--out', out)
    assert out.is_file() and 'at 96x128: max abs' in result.stdout
    static = run_tool(
        tmp_path,
        'tools/deployment/pytorch2onnx.py',
        CONFIG,
        '--verify-shape',
        225,
        301,
        check=False)
    assert static.returncode == 2 and 'needs --dynamic' in static.stderr


def test_the_batchnorm_design_is_exported_with_its_norms_folded():
    from mmdualtoken.deployment import build_exportable
    from mmdualtoken.models.layers.norms import TokenBatchNorm
    config = (
        REPO / 'configs/classification/speed/'
        'dualtoken-vit-t-bn_8xb128_in1k.py')
    model = build_exportable(str(config), backbone_only=True)
    assert not any(isinstance(m, TokenBatchNorm) for m in model.modules())
    assert not model.training


def test_missing_files_stop_with_one_line(tmp_path):
    for args, expected in (
        (['configs/nope.py'], "Config 'configs/nope.py' does not exist"),
        ([CONFIG, tmp_path / 'nope.pth'], 'nope.pth\' does not exist'),
    ):
        result = run_tool(
            REPO, 'tools/deployment/pytorch2onnx.py', *args, check=False)
        assert result.returncode == 1, result.stderr[-2000:]
        assert 'Traceback' not in result.stderr
        assert expected in result.stderr.strip().splitlines()[-1]
