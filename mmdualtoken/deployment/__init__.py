"""Export of the models of our configs to the runtimes they are deployed
with, and their outputs checked against PyTorch's.

``tools/deployment/export.py`` is the command; here is what it does:

- :func:`build_exportable`: a config's model in its inference form, as
  one tensor function (the classifier's logits, a detector's or
  segmentor's backbone feature maps, with the stride-4 neck where the
  config has one);
- :mod:`.runtimes`: one export and one session per format (ONNX Runtime,
  OpenVINO, ExecuTorch with XNNPACK, Core ML, TensorRT), each through the
  runtime's own API, imported only when asked for;
- :mod:`.quantization`: OpenVINO INT8 by NNCF's post-training quantization,
  calibrated on images of the config's own dataset.

Every export goes through ``torch.export`` except TensorRT's, which reads
the ONNX file. The global tokens' antialiased resize is written there as
the linear map it is (:func:`~mmdualtoken.models.layers.execution.
antialiased_resize`), which every runtime reads alike.
"""
import os
from typing import Optional

from torch import nn

from mmdualtoken.analysis import TensorForward
from mmdualtoken.apis import init_model
from mmdualtoken.errors import CheckpointError


class BackboneOf(nn.Module):
    """The backbone of a task model, with its first neck where that is ours
    (the stride-4 level of Mask R-CNN), as the feature maps it hands on."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.backbone = model.backbone
        neck = getattr(model, 'neck', None)
        first = neck[0] if isinstance(neck, nn.Sequential) else neck
        self.neck = first if type(first).__module__.startswith(
            'mmdualtoken') else None

    def forward(self, inputs):
        outs = self.backbone(inputs)
        return tuple(self.neck(outs)) if self.neck is not None else outs


def build_exportable(config: str,
                     checkpoint: Optional[str] = None,
                     backbone_only: bool = False) -> nn.Module:
    """The config's model in eval mode, with the checkpoint's weights loaded
    strictly, as its ``tensor`` forward (the classifier's logits; the
    detector's or segmentor's raw head outputs) or its backbone alone (with
    our neck, where the config has one), in its inference form
    (``switch_to_deploy``: the norms of our BatchNorm design folded)."""
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


def model_min_size(model: nn.Module) -> int:
    """The smallest input side the model's backbone accepts."""
    for module in model.modules():
        if hasattr(module, 'min_input_size'):
            return module.min_input_size
    return 32
