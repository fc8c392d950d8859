"""How the layers' maths runs: the one module that asks which mode a
forward runs in.

Every layer writes its maths once and calls the helpers below where one
mode can run the same maths faster than the plain call:

- **eager on a CPU** (inferencers, ``tools/test.py``, the benchmark): wide
  row-wise and image-wise layers run in cache-sized blocks
  (:func:`apply_by_rows`, :func:`apply_by_images`), so each block's
  activations stay in cache instead of streaming through main memory at
  every elementwise step; the stem's BatchNorms in eval mode are folded
  into their convolutions (:func:`conv_norm`), so each map is written once.
- **a captured graph** (``torch.compile``, tracing, scripting, export): the
  plain call, one node per layer, which the compiler fuses as it likes;
  for ``torch.compile`` a linear layer of one token per image becomes a
  weighted sum that fuses with what comes before it
  (:func:`linear_of_one_token`).
- **an exported graph** (ONNX, ``torch.export``, tracing): one graph for
  every input size, so no shortcut may depend on a size
  (:func:`same_size`), and the antialiased resize of the global tokens is
  written as the linear map it is (:func:`antialiased_resize`), which every
  runtime reads alike.
- **CUDA** and **training**: the plain call (blocking is for CPU caches;
  in training a BatchNorm's batch statistics tie the images together).

Each helper computes what the plain call does (up to rounding):
``tests/test_models/test_optimised_forward.py`` checks every mode against
the outputs of the unoptimised model. docs/speed.md has the measurements.
"""
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

# Bytes of hidden activation per block of rows (2 MiB): about half of a
# server core's L2, so that the block's input and output fit beside it.
CACHE_BLOCK_BYTES = 2**21


def capturing_graph() -> bool:
    """Whether a graph is being captured: compiling, tracing, scripting or
    exporting."""
    # torch.compiler.is_compiling is new in torch 2.3; dynamo's own before.
    compiling = getattr(torch.compiler, 'is_compiling',
                        torch._dynamo.is_compiling)
    return (torch.jit.is_tracing() or torch.jit.is_scripting() or compiling()
            or torch.onnx.is_in_onnx_export())


def exporting_graph() -> bool:
    """Whether the graph being captured must serve any input size (tracing,
    scripting, ``torch.export``, ONNX), unlike ``torch.compile``'s, which
    specialises and recompiles."""
    is_exporting = getattr(torch.compiler, 'is_exporting', lambda: False)
    return (torch.jit.is_tracing() or torch.jit.is_scripting()
            or is_exporting() or torch.onnx.is_in_onnx_export())


def _eager_cpu(x: Tensor) -> bool:
    # The graph check first: a comparison of sizes would specialise a
    # traced graph to this input's size.
    return not capturing_graph() and x.device.type == 'cpu'


def apply_by_rows(fn: Callable[[Tensor], Tensor], x: Tensor,
                  hidden_dims: int) -> Tensor:
    """``fn(x)`` for a token-wise ``fn``: eagerly on a CPU, in cache-sized
    blocks of tokens.

    Args:
        fn (Callable): Function of each row (token) of its input alone,
            (N, C) -> (N, C'), such as LayerNorm + MLP.
        x (Tensor): Tokens of shape (..., C).
        hidden_dims (int): Widest activation inside ``fn``, to size the
            blocks.

    Returns:
        Tensor: ``fn(x)`` of shape (..., C').
    """
    if not _eager_cpu(x):
        return fn(x)
    rows = max(CACHE_BLOCK_BYTES // (hidden_dims * x.element_size()), 1)
    flat = x.reshape(-1, x.shape[-1])
    if flat.shape[0] <= rows:
        return fn(x)
    out = torch.cat([fn(block) for block in flat.split(rows)])
    return out.view(*x.shape[:-1], out.shape[-1])


def apply_by_images(module: nn.Module, x: Tensor, image_bytes: int) -> Tensor:
    """``module(x)`` for a module of each image alone in eval mode (such as
    convolutions with BatchNorms): eagerly on a CPU, in cache-sized blocks
    of the batch.

    Args:
        module (nn.Module): In training mode it is called once on the whole
            batch, whose statistics its BatchNorms use.
        x (Tensor): A batch of shape (B, ...).
        image_bytes (int): Bytes of ``module``'s largest activation for one
            image, to size the blocks.

    Returns:
        Tensor: ``module(x)``.
    """
    if module.training or not _eager_cpu(x):
        return module(x)
    # Blocks whose largest map is 3-6 MiB (docs/speed.md).
    images = max(3 * CACHE_BLOCK_BYTES // image_bytes, 1)
    if x.shape[0] <= images:
        return module(x)
    return torch.cat([module(block) for block in x.split(images)])


def conv_norm(conv: nn.Conv2d, norm: nn.Module, x: Tensor) -> Tensor:
    """``norm(conv(x))`` for a convolution without bias; eagerly in eval
    mode, a BatchNorm is folded into the convolution with its running
    statistics, so the map is written once instead of twice.

    A captured graph keeps the norm: the compiler fuses it with what
    follows, while the folded weights would be computed again in every
    call.
    """
    if (norm.training or capturing_graph() or conv.bias is not None
            or not isinstance(norm, _BatchNorm) or norm.running_var is None):
        return norm(conv(x))
    scale = (norm.running_var + norm.eps).rsqrt()
    shift = -norm.running_mean * scale
    if norm.affine:
        scale = scale * norm.weight
        shift = shift * norm.weight + norm.bias
    return conv._conv_forward(x, conv.weight * scale.view(-1, 1, 1, 1), shift)


def linear_of_one_token(linear: nn.Linear, x: Tensor) -> Tensor:
    """``linear(x)`` for x of shape (B, 1, C_in); in a graph that
    ``torch.compile`` captures, one broadcast product summed over C_in,
    which the compiler fuses with the reduction before it instead of calling
    a matrix product of B rows. Exported graphs keep the matrix product,
    which the runtimes run without the (B, C_in, C_out) product."""
    if not capturing_graph() or exporting_graph():
        return linear(x)
    product = x.transpose(1, 2) * linear.weight.t()  # (B, C_in, C_out)
    out = product.sum(1, keepdim=True)
    return out if linear.bias is None else out + linear.bias


def antialiased_resize(grid: Tensor, size: Sequence[int]) -> Tensor:
    """torch's antialiased bilinear resize (``align_corners=False``) of a
    channels-last (B, h, w, C) grid to (B, h', w', C).

    Eagerly and compiled, torch's own kernel (in float32 for half precision,
    which the CPU kernel lacks). In an exported graph the same linear map as
    two small matrix products (:func:`resize_weights`): runtimes implement
    the antialiased resize differently (OpenVINO's Interpolate differs from
    torch's by 1e-3 on shrunk token grids) or not at all (OpenVINO has no
    rule for ``torch.export``'s ``_upsample_bilinear2d_aa``).
    """
    if exporting_graph():
        rows = resize_weights(grid.shape[1], size[0], grid)  # (h', h)
        cols = resize_weights(grid.shape[2], size[1], grid)  # (w', w)
        # Plain matrix products: einsum's broadcasting checks would make
        # torch.export pin the sizes. (B, w, C, h) -> (B, w, C, h')
        x = grid.permute(0, 2, 3, 1) @ rows.t()
        # (B, h', C, w) -> (B, h', C, w') -> (B, h', w', C)
        return (x.permute(0, 3, 2, 1) @ cols.t()).transpose(2, 3)
    channels_first = grid.permute(0, 3, 1, 2)  # (B, C, h, w)
    if grid.dtype in (torch.bfloat16, torch.float16):
        channels_first = channels_first.float()
    resized = F.interpolate(
        channels_first,
        size=tuple(size),
        mode='bilinear',
        align_corners=False,
        antialias=True)
    return resized.to(grid.dtype).permute(0, 2, 3, 1)


def resize_weights(in_size, out_size, like: Tensor) -> Tensor:
    """The (out, in) weights of torch's antialiased bilinear resize along
    one axis: each output cell is a triangle filter over the input cells
    around its centre, widened by the scale when shrinking (which is the
    antialiasing), normalised to sum to one. Sizes may be symbolic: the
    scale is computed as a tensor, so an exported graph keeps them so."""
    source = torch.arange(in_size, dtype=torch.float32, device=like.device)
    target = torch.arange(out_size, dtype=torch.float32, device=like.device)
    scale = torch.ones_like(source).sum() / torch.ones_like(target).sum()
    centre = scale * (target + 0.5)
    distance = (source[None] + 0.5 - centre[:, None]) / scale.clamp(min=1)
    weights = (1 - distance.abs()).clamp(min=0)
    return (weights / weights.sum(1, keepdim=True)).to(like.dtype)


def same_size(size: Sequence[int], target: Sequence[int]) -> bool:
    """Whether a map of ``size`` may skip a resize to ``target``: never in
    an exported graph, which must also serve other input sizes."""
    return not exporting_graph() and tuple(size) == tuple(target)
