"""Parameter and FLOP counting that includes fused attention.

mmengine's and fvcore's jit counters have no handle for
``aten::scaled_dot_product_attention`` and count it as zero; here it costs
its two matrix products, one multiply-add per FLOP as OpenMMLab counts.
"""
import math
from typing import Any, List, Sequence

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.registry import DefaultScope
from torch import nn

from .apis import init_model


def scaled_dot_product_attention_flop_jit(inputs: List[Any],
                                          outputs: List[Any]) -> int:
    """Multiply-adds of ``softmax(Q K^T) V``: B * heads * N * M * (d + d_v)."""
    query, key, value = (get_shape(x) for x in inputs[:3])
    num_queries, head_dims = query[-2:]
    return (math.prod(query[:-2]) * num_queries * key[-2] *
            (head_dims + value[-1]))


def get_complexity(model: nn.Module, input_shape: Sequence[int]) -> dict:
    """Counts parameters and FLOPs of ``model`` on one input of a shape.

    Args:
        model (nn.Module): The model; it is put in eval mode.
        input_shape (Sequence[int]): (C, H, W) of one image.

    Returns:
        dict: ``params`` and ``flops`` (multiply-adds) as integers.
    """
    model.eval()
    inputs = (torch.rand(1, *input_shape), )
    analyzer = FlopAnalyzer(model, inputs).set_op_handle(
        'aten::scaled_dot_product_attention',
        scaled_dot_product_attention_flop_jit)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return dict(params=parameter_count(model)[''], flops=analyzer.total())


def _data_samples(inputs: torch.Tensor) -> list:
    """What mmdet's two-stage detectors need in ``tensor`` mode besides the
    images: the RPN's proposal step reads each image's meta information
    (shape, scale)."""
    from mmdet.structures import DetDataSample
    shape = tuple(inputs.shape[-2:])
    meta = dict(
        img_shape=shape,
        ori_shape=shape,
        pad_shape=shape,
        batch_input_shape=shape,
        scale_factor=(1., 1.))
    return [DetDataSample(metainfo=meta) for _ in range(len(inputs))]


class TensorForward(nn.Module):
    """Calls a task model's ``tensor`` mode (backbone, neck and heads, no
    post-processing), which the jit counter can trace. Build it in the
    model's default scope: mmdet's models get image meta data samples."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        scope = DefaultScope.get_current_instance()
        self.with_data_samples = (
            scope is not None and scope.scope_name == 'mmdet')

    def forward(self, inputs: torch.Tensor):
        data_samples = (
            _data_samples(inputs) if self.with_data_samples else None)
        return self.model(inputs, data_samples, mode='tensor')


def get_config_complexity(config: str,
                          input_shape: Sequence[int] = (3, 224, 224),
                          cfg_options: dict = None) -> dict:
    """Builds the model of an mmpretrain, mmdet or mmseg config and counts
    its parameters and FLOPs, as :func:`get_complexity`. No weights are
    loaded: a ``Pretrained`` checkpoint the config names need not exist."""
    model = init_model(config, cfg_options=cfg_options, init_weights=False)
    return get_complexity(TensorForward(model), input_shape)
