"""The optimised forward computes what the plain one did.

``tests/data/reference_forward.pth`` holds two small DualToken-ViTs (normal
and mix), their weights (BatchNorm running statistics randomised) and their
outputs on two inputs (128x160 and 97x131), written by the code before the
CPU optimisations (no cache blocking, no BatchNorm folding, channels-first
stem). Loading those weights strictly also shows that parameter names did
not change.
"""
import re
from pathlib import Path

import pytest
import torch

import mmdualtoken.models
from mmdualtoken.models import DualTokenViT
from mmdualtoken.models.layers import execution

REFERENCE = Path(__file__).parents[1] / 'data' / 'reference_forward.pth'


@pytest.fixture(scope='module')
def reference():
    return torch.load(REFERENCE, weights_only=True)


@pytest.mark.parametrize('variant', ['normal', 'mix'])
@pytest.mark.parametrize('mode',
                         ['default', 'small_blocks', 'graph', 'exported'])
def test_outputs_match_the_unoptimised_reference(reference, variant, mode,
                                                 monkeypatch):
    """Default blocks; blocks so small that every blocked layer runs in
    several blocks of rows and the stem one image at a time; the code that
    a compiled graph runs (no blocking, no folding); and the code of an
    exported graph (no size shortcut, the resize as matrix products)."""
    if mode == 'small_blocks':
        monkeypatch.setattr(execution, 'CACHE_BLOCK_BYTES', 1024)
    elif mode in ('graph', 'exported'):
        monkeypatch.setattr(execution, 'capturing_graph', lambda: True)
    if mode == 'exported':
        monkeypatch.setattr(execution, 'exporting_graph', lambda: True)
    saved = reference[variant]
    model = DualTokenViT(saved['arch'], out_indices=(0, 1, 2))
    model.load_state_dict(saved['state_dict'])
    model.eval()
    with torch.no_grad():
        for x, expected in zip(reference['inputs'], saved['outputs']):
            for out, ref in zip(model(x), expected):
                torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_blocked_layers_keep_gradients_and_training_statistics(monkeypatch):
    """In training the stem's BatchNorm sees the whole batch (no folding, no
    blocking) and row blocking keeps the gradients of the plain call."""
    # In float64, so that summing rows in another order changes nothing
    # visible: some gradients here are sums that nearly cancel.
    model = DualTokenViT('t').double().train()
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    # Not a plain sum: the output LayerNorm makes its gradient vanish.
    probe = torch.randn(2, 192, 2, 3, dtype=torch.float64)

    def grads():
        model.zero_grad()
        (model(x)[0] * probe).sum().backward()
        return {k: p.grad.clone() for k, p in model.named_parameters()}

    plain = grads()
    monkeypatch.setattr(execution, 'CACHE_BLOCK_BYTES', 1024)
    blocked = grads()
    for name, grad in plain.items():
        error = (blocked[name] - grad).norm() / grad.norm().clamp(min=1e-30)
        assert error < 1e-9, name
    bn = model.stem.convs[0][1]
    assert bn.num_batches_tracked == 2


def test_apply_by_rows_and_images_are_exact(monkeypatch):
    monkeypatch.setattr(execution, 'CACHE_BLOCK_BYTES', 512)
    x = torch.randn(3, 10, 11, 8)
    mlp = torch.nn.Sequential(
        torch.nn.Linear(8, 32), torch.nn.GELU(), torch.nn.Linear(32, 5))
    calls = []

    def counted(rows):
        calls.append(rows.shape[0])
        return mlp(rows)

    with torch.no_grad():
        out = execution.apply_by_rows(counted, x, hidden_dims=32)
        torch.testing.assert_close(out, mlp(x), atol=1e-6, rtol=1e-6)
        assert out.shape == (3, 10, 11, 5) and len(calls) > 1
        assert max(calls) == 512 // (32 * 4)
        doubled = []
        double = torch.nn.Module()
        double.forward = lambda b: doubled.append(len(b)) or b * 2
        images = execution.apply_by_images(double.eval(), x, image_bytes=1024)
        torch.testing.assert_close(images, x * 2)
        assert doubled == [1, 1, 1]
        doubled.clear()
        execution.apply_by_images(double.train(), x, image_bytes=1024)
        assert doubled == [3]


MODE_QUESTIONS = re.compile(r'is_compiling|is_tracing|is_scripting|'
                            r'is_in_onnx_export|is_exporting|capturing_graph'
                            r'|exporting_graph|device\.type')


def test_only_the_execution_module_asks_which_mode_a_forward_runs_in():
    """The layers write the paper's maths once; eager-CPU, compiled and
    exported forms are decided in models/layers/execution.py alone."""
    package = Path(mmdualtoken.models.__file__).parent
    asking = sorted(
        str(path.relative_to(package)) for path in package.rglob('*.py')
        if MODE_QUESTIONS.search(path.read_text()))
    assert asking == ['layers/execution.py']


def test_the_token_mixing_mlp_nothing_reads_is_not_computed():
    model = DualTokenViT('t-mix', out_indices=(0, 1, 2)).eval()
    blocks = [block for stage in model.stages for block in stage]
    called = []
    for block in blocks:
        block.token_mlp.register_forward_hook(
            lambda module, args, out: called.append(module))
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 64))
    assert len(called) == len(blocks) - 1
    assert all(module is not blocks[-1].token_mlp for module in called)


def test_the_exported_resize_is_torchs_antialiased_one(monkeypatch):
    """Shrinking and enlarging, odd sizes and one cell: the matrix form of
    exported graphs equals torch's kernel."""
    import itertools

    import torch.nn.functional as F
    monkeypatch.setattr(execution, 'exporting_graph', lambda: True)
    for h, w, out_h, out_w in itertools.product([1, 3, 7, 14], [1, 5, 11],
                                                [1, 3, 7], [2, 4, 13]):
        grid = torch.randn(2, h, w, 5)
        expected = F.interpolate(
            grid.permute(0, 3, 1, 2), (out_h, out_w),
            mode='bilinear',
            align_corners=False,
            antialias=True).permute(0, 2, 3, 1)
        torch.testing.assert_close(
            execution.antialiased_resize(grid, (out_h, out_w)),
            expected,
            atol=1e-6,
            rtol=1e-6)
