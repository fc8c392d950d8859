"""ONNX export of DualToken-ViT and of the models of our configs.

The export goes through ``torch.export`` (``torch.onnx.export(dynamo=True)``),
which keeps sizes symbolic: with ``dynamic=True`` one file serves any batch
and any height and width >= 32, as the PyTorch model does (the global tokens
are resized to each input's token grid inside the graph).
"""
import os
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from .analysis import TensorForward
from .apis import init_model
from .errors import CheckpointError


class BackboneOf(nn.Module):
    """The backbone of a task model alone (its feature maps as outputs)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.backbone = model.backbone

    def forward(self, inputs: torch.Tensor):
        return self.backbone(inputs)


def build_exportable(config: str,
                     checkpoint: Optional[str] = None,
                     backbone_only: bool = False) -> nn.Module:
    """The config's model in eval mode, with the checkpoint's weights loaded
    strictly, as its ``tensor`` forward (the classifier's logits; the
    detector's or segmentor's raw head outputs) or its backbone alone, in
    its inference form (``switch_to_deploy``: the norms of our BatchNorm
    design folded)."""
    if (checkpoint and '://' not in checkpoint
            and not os.path.isfile(checkpoint)):
        raise CheckpointError(f'Checkpoint {checkpoint!r} does not exist: '
                              f'name a checkpoint file, or leave it out to '
                              f'export random weights.')
    model = init_model(config, checkpoint or None, init_weights=False).eval()
    if hasattr(model.backbone, 'switch_to_deploy'):
        model.backbone.switch_to_deploy()
    wrapped = BackboneOf(model) if backbone_only else TensorForward(model)
    return wrapped.eval()


def export_onnx(model: nn.Module,
                path: str,
                shape: Sequence[int] = (224, 224),
                dynamic: bool = False,
                batch_size: Optional[int] = None) -> None:
    """Writes ``model`` as ONNX, traced on a (batch_size, 3, H, W) input.

    Args:
        model (nn.Module): The model, in eval mode.
        path (str): The ``.onnx`` file to write.
        shape (Sequence[int]): Height and width of the example input.
        dynamic (bool): Make batch, height and width dynamic axes.
        batch_size (int, optional): Batch of the example input; 2 when
            dynamic (torch.export fixes axes of size 1), else 1.
    """
    example = torch.randn(batch_size or (2 if dynamic else 1), 3, *shape)
    dynamic_shapes = None
    if dynamic:
        size = dict(min=model_min_size(model), max=8192)
        dynamic_shapes = [{
            0: torch.export.Dim('batch', min=1, max=4096),
            2: torch.export.Dim('height', **size),
            3: torch.export.Dim('width', **size)
        }]
    with torch.no_grad():
        torch.onnx.export(
            model, (example, ),
            path,
            dynamo=True,
            input_names=['input'],
            dynamic_shapes=dynamic_shapes)


def model_min_size(model: nn.Module) -> int:
    """The smallest input side the model's backbone accepts."""
    for module in model.modules():
        if hasattr(module, 'min_input_size'):
            return module.min_input_size
    return 32


def onnx_parity(model: nn.Module, path: str,
                shapes: Sequence[Sequence[int]]) -> float:
    """Largest absolute difference between onnxruntime's and PyTorch's
    outputs over inputs of the given (B, 3, H, W) shapes."""
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=['CPUExecutionProvider'])
    worst = 0.
    for shape in shapes:
        x = torch.randn(*shape)
        with torch.no_grad():
            expected = model(x)
        expected = [
            t.numpy() for t in torch.utils._pytree.tree_leaves(expected)
        ]
        outputs = session.run(None, {'input': x.numpy()})
        if len(outputs) != len(expected):
            raise AssertionError(f'ONNX gave {len(outputs)} outputs, '
                                 f'PyTorch {len(expected)}')
        for out, ref in zip(outputs, expected):
            if out.shape != ref.shape:
                raise AssertionError(f'{tuple(shape)}: ONNX output of shape '
                                     f'{out.shape}, PyTorch {ref.shape}')
            worst = max(worst, float(np.abs(out - ref).max()))
    return worst
