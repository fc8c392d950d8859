"""Export to every deployment format, checked against PyTorch: ONNX Runtime
and OpenVINO (f32, dynamic sizes) through tools/deployment/export.py,
OpenVINO INT8 on the trained demo classifier, ExecuTorch (XNNPACK) parity
and Core ML conversion on a small DualToken-ViT, and TensorRT, which needs
a GPU."""
import platform
import re

import numpy as np
import pytest
import torch
from helpers import CLS_DEMO, MASK_RCNN_DEMO, REPO, run_tool

from mmdualtoken.deployment.runtimes import (FORMATS, RuntimeUnavailable,
                                             max_difference, torch_outputs)
from mmdualtoken.models import DualTokenViT

CONFIG = REPO / 'configs/classification/dualtoken-vit-t_8xb128_in1k.py'
EXPORT = 'tools/deployment/export.py'
# A DualToken-ViT with every layer of T, one block a stage: formats whose
# export takes minutes per block (ExecuTorch's lowering) check this one.
SMALL = dict(
    embed_dims=[16, 32, 64],
    depths=[1, 1, 1],
    num_heads=[1, 2, 4],
    ffn_ratios=[2, 2, 2],
    token_mixing=False)


def difference(result) -> float:
    line = next(line for line in result.stdout.splitlines()
                if 'vs PyTorch at' in line)
    return float(line.split('largest difference ')[1].split()[0])


@pytest.mark.parametrize('fmt', ['onnx', 'openvino'])
def test_dynamic_classifier_export_matches_pytorch_at_two_sizes(fmt, tmp_path):
    pytest.importorskip('onnxruntime' if fmt == 'onnx' else fmt)
    out = tmp_path / f'classifier{FORMATS[fmt].suffix}'
    result = run_tool(tmp_path, EXPORT, CONFIG, '--format', fmt, '--dynamic',
                      '--verify-shape', 225, 301, '--threads', 2, '--out', out)
    assert f'wrote {out} (dynamic batch, height and width)' in result.stdout
    assert 'at 224x224, 225x301' in result.stdout
    assert difference(result) <= 1e-4
    assert 'latency at batch 1' in result.stdout.splitlines()[-1]


def test_detector_backbone_with_its_neck_exports_to_openvino(tmp_path):
    """Mask R-CNN's backbone with our stride-4 level: four feature maps."""
    pytest.importorskip('openvino')
    out = tmp_path / 'backbone.xml'
    result = run_tool(REPO, EXPORT, MASK_RCNN_DEMO, '--backbone-only',
                      '--format', 'openvino', '--dynamic', '--shape', 96, 128,
                      '--verify-shape', 131, 97, '--out', out)
    assert difference(result) <= 1e-4
    from mmdualtoken.deployment import build_exportable
    model = build_exportable(str(MASK_RCNN_DEMO), backbone_only=True)
    with torch.no_grad():
        maps = model(torch.rand(1, 3, 96, 128))
    assert [m.shape[-2:] for m in maps] == [(24, 32), (12, 16), (6, 8), (3, 4)]


def test_int8_classifier_agrees_with_the_float_one(toy_root,
                                                   trained_classifier):
    pytest.importorskip('nncf')
    _, checkpoint = trained_classifier
    out = toy_root / 'classifier_int8.xml'
    result = run_tool(toy_root, EXPORT, CLS_DEMO, checkpoint, '--format',
                      'openvino', '--int8', '--threads', 2, '--out', out)
    line = next(line for line in result.stdout.splitlines()
                if 'top-1 agreement' in line)
    agreement, top1, float_top1 = map(float, re.findall(r'([\d.]+) %', line))
    assert agreement >= 99 and abs(top1 - float_top1) <= 1, line


def export_small(fmt_name: str, tmp_path):
    """A DualToken-ViT of SMALL exported to a format: (format, file, model,
    example input)."""
    torch.manual_seed(0)
    model = DualTokenViT(SMALL, out_indices=(0, 1, 2)).eval()
    example = torch.randn(1, 3, 96, 128)
    fmt = FORMATS[fmt_name]
    path = str(tmp_path / f'small{fmt.suffix}')
    fmt.export(model, example, path, False, 32)
    return fmt, path, model, example


def test_executorch_xnnpack_program_matches_pytorch(tmp_path):
    pytest.importorskip('executorch')
    fmt, path, model, example = export_small('executorch', tmp_path)
    x = example.numpy()
    error, _ = max_difference(
        fmt.session(path, 2, 'f32')(x), torch_outputs(model, x))
    assert error <= 1e-4


def test_coreml_conversion_and_its_specification(tmp_path):
    """Converted and checked here; predictions need macOS."""
    pytest.importorskip('coremltools')
    fmt, path, model, example = export_small('coreml', tmp_path)
    assert 'specification checked' in fmt.check(path, model, example)
    if platform.system() != 'Darwin':
        with pytest.raises(RuntimeUnavailable, match='need macOS'):
            fmt.session(path, None, 'f32')
    else:
        x = example.numpy()
        error, _ = max_difference(
            fmt.session(path, None, 'f32')(x), torch_outputs(model, x))
        assert error <= 1e-4


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='a GPU is here: the parity test runs')
def test_tensorrt_needs_a_gpu_and_says_so(tmp_path):
    result = run_tool(
        tmp_path,
        EXPORT,
        CONFIG,
        '--format',
        'tensorrt',
        '--out',
        tmp_path / 'model.engine',
        check=False)
    assert result.returncode == 1
    assert 'NVIDIA GPU, and this machine has none' in result.stderr


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='TensorRT builds and runs engines on an NVIDIA GPU; none here')
def test_tensorrt_engine_matches_pytorch_at_two_sizes(tmp_path):
    pytest.importorskip('tensorrt', reason='pip install tensorrt')
    out = tmp_path / 'classifier.engine'
    result = run_tool(tmp_path, EXPORT, CONFIG, '--format', 'tensorrt',
                      '--dynamic', '--verify-shape', 225, 301, '--out', out)
    assert 'at 224x224, 225x301' in result.stdout
    assert difference(result) <= 1e-4


def test_the_onnx_alias_and_wrong_requests(tmp_path):
    out = tmp_path / 'backbone.onnx'
    result = run_tool(tmp_path, 'tools/deployment/pytorch2onnx.py', CONFIG,
                      '--backbone-only', '--shape', 96, 128, '--out', out)
    assert out.is_file() and difference(result) <= 1e-4
    for args, expected in (
        (['--format', 'onnx', '--verify-shape', 225, 301], 'needs --dynamic'),
        (['--format', 'executorch', '--dynamic'], 'static shape'),
        (['--format', 'onnx', '--int8'], "--int8 is OpenVINO's"),
        (['--format', 'openvino', '--out', 'x.onnx'], 'ends in .xml'),
    ):
        wrong = run_tool(tmp_path, EXPORT, CONFIG, *args, check=False)
        assert wrong.returncode == 2 and expected in wrong.stderr, args


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


def test_max_difference_is_relative_where_values_are_large():
    ref = [np.array([1000., 0.5])]
    assert max_difference([np.array([1000.05, 0.5])], ref)[0] == \
        pytest.approx(5e-5)
    assert max_difference([np.array([1000., 0.6])], ref)[0] == \
        pytest.approx(0.1)
