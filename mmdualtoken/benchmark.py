"""Side-by-side speed of backbones: ours, our configs and timm's peers.

Every model is timed in the same process, in rounds that alternate the
models, so that a machine's drift (other jobs, clocks, heat) hits all of
them alike; medians, minima and maxima are over the rounds. The machine's
matrix-product rate is measured in the same run, so each model's achieved
FLOP/s reads as a fraction of what the hardware does on its best kernel.

Used by ``tools/analysis_tools/benchmark.py``.
"""
import contextlib
import json
import math
import os
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
from torch import nn

# The timm models that compete with DualToken-ViT at 0.4-1.3 G FLOPs.
PEERS = ('efficientformer_l1', 'edgenext_small', 'repvit_m1_0', 'fastvit_t8',
         'pvt_v2_b0', 'mobilevitv2_100', 'efficientvit_b1')
OURS = ('t', 's', 't-mix', 's-mix')
OUR_PREFIX = 'dualtoken-vit-'
BACKBONE_SUFFIX = '-backbone'


@dataclass
class Settings:
    """What every model is measured under."""
    batch_size: int = 32
    shape: Sequence[int] = (224, 224)
    device: str = 'cpu'
    dtype: str = 'fp32'  # or 'bf16' (autocast)
    channels_last: bool = False
    compile: bool = False
    threads: Optional[int] = None
    rounds: int = 5
    warmup: int = 2
    latency_runs: int = 10
    min_round_seconds: float = 0.3


@dataclass
class Result:
    """One model's figures; times in seconds, rates in images/s."""
    name: str
    params: Optional[int] = None
    flops: Optional[int] = None  # multiply-adds per image
    throughput: List[float] = field(default_factory=list)
    latency: List[float] = field(default_factory=list)
    peak_memory: Optional[int] = None  # bytes

    def median_throughput(self) -> float:
        return statistics.median(self.throughput)

    def median_latency(self) -> float:
        return statistics.median(self.latency) if self.latency else math.nan

    def flops_per_second(self) -> float:
        """Achieved FLOP/s, two FLOPs per multiply-add as matmul rates are
        counted."""
        return 2 * self.flops * self.median_throughput() if self.flops \
            else math.nan


def our_classifier_config(arch: str) -> str:
    """The ImageNet config of a variant, as the package ships it."""
    from mmdualtoken.host_patches import PACKAGE_DIR
    return str(
        Path(PACKAGE_DIR) / '.mim' / 'configs' / 'classification' /
        f'dualtoken-vit-{arch}_8xb128_in1k.py')


def describe_models() -> str:
    return (f'{OUR_PREFIX}{{{",".join(OURS)}}}[{BACKBONE_SUFFIX}] (ours: '
            f'ImageNet classifier, or the backbone alone), a config file '
            f'(tensor forward), or a timm model name (random weights; '
            f'`pip install timm`), e.g. {", ".join(PEERS)}, or ours in timm, '
            f'dualtoken_vit_{{t,s,t_mix,s_mix}}')


def build(name: str, shape: Sequence[int]) -> nn.Module:
    """Builds a model by name (see :func:`describe_models`) in eval mode,
    with random weights: nothing is downloaded."""
    if name.startswith(OUR_PREFIX):
        arch = name[len(OUR_PREFIX):]
        backbone = arch.endswith(BACKBONE_SUFFIX)
        arch = arch[:-len(BACKBONE_SUFFIX)] if backbone else arch
        if arch not in OURS:
            raise ValueError(f'Unknown variant {name!r}; ours are '
                             f'{[OUR_PREFIX + a for a in OURS]}.')
        if backbone:
            from mmdualtoken.models import DualTokenViT
            return DualTokenViT(arch).eval()
        name = our_classifier_config(arch)
    if name.endswith('.py'):
        from mmdualtoken.analysis import TensorForward
        from mmdualtoken.apis import init_model
        return TensorForward(init_model(name, init_weights=False)).eval()
    try:
        import timm

        import mmdualtoken.models.timm_models  # noqa: F401  (ours in timm)
    except ImportError:
        raise ImportError(f'{name!r} is neither one of ours nor a config; '
                          f'peers come from timm: pip install timm') from None
    if name not in timm.list_models():
        raise ValueError(f'timm has no model {name!r}; ' + describe_models())
    return timm.create_model(name, pretrained=False).eval()


def complexity(model: nn.Module, shape: Sequence[int]) -> Dict[str, int]:
    """Parameters and multiply-adds per image (attention counted)."""
    from mmdualtoken.analysis import get_complexity
    with open(os.devnull, 'w') as sink, contextlib.redirect_stderr(sink):
        try:
            return get_complexity(model, (3, *shape))
        except Exception:  # a model the jit tracer cannot follow
            return dict(
                params=sum(p.numel() for p in model.parameters()), flops=None)


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _autocast(settings: Settings):
    if settings.dtype == 'fp32':
        return contextlib.nullcontext()
    return torch.autocast(settings.device.split(':')[0], dtype=torch.bfloat16)


def _use_threads(settings: Settings) -> None:
    if settings.threads:
        torch.set_num_threads(settings.threads)


def matmul_rate(settings: Settings,
                dtype: torch.dtype = torch.float32,
                seconds: float = 0.5) -> float:
    """The machine's FLOP/s on a large square matrix product."""
    _use_threads(settings)
    size = 8192 if settings.device.startswith('cuda') else 2048
    a = torch.randn(size, size, device=settings.device, dtype=dtype)
    b = torch.randn(size, size, device=settings.device, dtype=dtype)
    a @ b
    synchronize(settings.device)
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        synchronize(settings.device)
        runs += 1
    return 2 * size**3 * runs / (time.perf_counter() - start)


class PeakMemory:
    """Peak memory of the code inside: CUDA's max allocated bytes, or on the
    CPU the peak growth of the resident set (sampled every millisecond;
    memory the allocator kept from an earlier model is not counted)."""

    def __init__(self, device: str):
        self.device = device
        self.peak = 0

    @staticmethod
    def _rss() -> int:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

    def _sample(self):
        while not self._done.is_set():
            self.peak = max(self.peak, self._rss() - self._base)
            time.sleep(0.001)

    def __enter__(self):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
        else:
            self._base = self._rss()
            self._done = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self._base
        else:
            self._done.set()
            self._thread.join()
            self.peak = max(self.peak, self._rss() - self._base)


def _prepare(model: nn.Module, settings: Settings) -> Callable:
    model = model.to(settings.device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    forward = torch.compile(model) if settings.compile else model
    return forward


def _inputs(settings: Settings, batch_size: int) -> torch.Tensor:
    x = torch.randn(batch_size, 3, *settings.shape, device=settings.device)
    if settings.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _timed(forward: Callable,
           x: torch.Tensor,
           settings: Settings,
           min_seconds: float,
           min_runs: int = 1) -> float:
    """Seconds per call, over enough calls to last ``min_seconds``."""
    runs, start = 0, time.perf_counter()
    with torch.inference_mode(), _autocast(settings):
        while runs < min_runs or time.perf_counter() - start < min_seconds:
            forward(x)
            synchronize(settings.device)
            runs += 1
    return (time.perf_counter() - start) / runs


def run(
    names: Sequence[str],
    settings: Settings,
    progress: Callable[[str], None] = lambda line: None,
    builder: Callable[[str, Sequence[int]],
                      nn.Module] = build) -> List[Result]:
    """Measures the models, alternating them in every round.

    Args:
        names (Sequence[str]): Models (see :func:`describe_models`).
        settings (Settings): How to measure.
        progress (Callable): Receives a line at each step.
        builder (Callable): Builds a model from a name and the input shape.

    Returns:
        list[Result]: One per name, in the order given.
    """
    _use_threads(settings)
    results, forwards = [], []
    for name in names:
        progress(f'building {name}')
        model = builder(name, settings.shape)
        counted = complexity(model, settings.shape)
        results.append(Result(name, counted['params'], counted['flops']))
        forwards.append(_prepare(model, settings))
    batch = _inputs(settings, settings.batch_size)
    single = _inputs(settings, 1)
    for result, forward in zip(results, forwards):
        progress(f'warm-up and memory of {result.name}')
        with PeakMemory(settings.device) as memory:
            _timed(forward, batch, settings, 0, settings.warmup)
        result.peak_memory = memory.peak
        if settings.latency_runs:
            _timed(forward, single, settings, 0, settings.warmup)
    for round_index in range(settings.rounds):
        for result, forward in zip(results, forwards):
            progress(f'round {round_index + 1}/{settings.rounds}: '
                     f'{result.name}')
            seconds = _timed(forward, batch, settings,
                             settings.min_round_seconds)
            result.throughput.append(settings.batch_size / seconds)
            if settings.latency_runs:
                result.latency.append(
                    _timed(forward, single, settings, 0,
                           settings.latency_runs))
    return results


def table(results: Sequence[Result], reference: str, settings: Settings,
          rates: Dict[str, float]) -> str:
    """A Markdown table of the results with ratios to ``reference``."""
    by_name = {r.name: r for r in results}
    ref = by_name.get(reference, results[0])
    rate = rates['bf16' if settings.dtype == 'bf16' else 'fp32']
    lines = [
        f'| model | params (M) | FLOPs (G) | img/s (median) | img/s (min-max)'
        f' | vs {ref.name} | ms at batch 1 | vs {ref.name} | peak memory '
        f'(MiB) | % of matmul rate |', '|---' * 10 + '|'
    ]
    for r in results:
        lines.append(
            f'| {r.name} | {r.params / 1e6:.2f} | ' +
            (f'{r.flops / 1e9:.3f}' if r.flops else '-') +
            f' | {r.median_throughput():.1f} | {min(r.throughput):.1f}-'
            f'{max(r.throughput):.1f} | '
            f'{r.median_throughput() / ref.median_throughput():.2f}x | '
            f'{r.median_latency() * 1e3:.2f} | '
            f'{r.median_latency() / ref.median_latency():.2f}x | '
            f'{r.peak_memory / 2**20:.0f} | ' +
            (f'{100 * r.flops_per_second() / rate:.0f} %' if r.flops else '-'
             ) + ' |')
    return '\n'.join(lines)


def describe_machine(settings: Settings) -> str:
    if settings.device.startswith('cuda'):
        where = torch.cuda.get_device_name(settings.device)
    else:
        where = f'CPU, {torch.get_num_threads()} threads'
    return (f'{where}; torch {torch.__version__}; {settings.dtype}'
            f'{", channels-last" if settings.channels_last else ""}'
            f'{", torch.compile" if settings.compile else ", eager"}; batch '
            f'{settings.batch_size}; input {settings.shape[0]}x'
            f'{settings.shape[1]}')


def save(path: str, results: Sequence[Result], settings: Settings,
         rates: Dict[str, float]) -> None:
    with open(path, 'w') as f:
        json.dump(
            dict(
                machine=describe_machine(settings),
                settings=asdict(settings),
                matmul_flops_per_second=rates,
                argv=sys.argv,
                results=[asdict(r) for r in results]),
            f,
            indent=2)


def synthetic_batch(model: nn.Module, shape: Sequence[int],
                    batch_size: int) -> dict:
    """Random images with random annotations for the model's task (the
    current default scope), packed as the task library's dataloader packs
    them: boxes and masks (mmdet), label maps (mmseg) or labels."""
    from mmengine.registry import DefaultScope
    scope = DefaultScope.get_current_instance().scope_name
    images = [
        torch.randint(0, 256, (3, *shape), dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    meta = dict(
        img_shape=tuple(shape), ori_shape=tuple(shape), pad_shape=tuple(shape))
    if scope == 'mmdet':
        from mmdet.testing import demo_mm_inputs
        head = (
            model.roi_head.bbox_head
            if hasattr(model, 'roi_head') else model.bbox_head)
        return demo_mm_inputs(
            batch_size, [(3, *shape)] * batch_size,
            num_items=[5] * batch_size,
            num_classes=head.num_classes,
            with_mask=True)
    if scope == 'mmseg':
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = []
        for _ in range(batch_size):
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, model.decode_head.num_classes, (1,
                                                                      *shape)))
            samples.append(sample)
        return dict(inputs=images, data_samples=samples)
    from mmpretrain.structures import DataSample
    classes = model.head.num_classes
    return dict(
        inputs=images,
        data_samples=[
            DataSample(metainfo=meta).set_gt_label(torch.randint(classes, ()))
            for _ in range(batch_size)
        ])


@dataclass
class TrainResult:
    """Seconds per training iteration of one config."""
    name: str
    params: int
    task: str  # the default scope: mmdet, mmseg or mmpretrain
    seconds: List[float] = field(default_factory=list)
    peak_memory: Optional[int] = None  # bytes

    def median(self) -> float:
        return statistics.median(self.seconds)


def run_training(
        configs: Sequence[str],
        settings: Settings,
        progress: Callable[[str],
                           None] = lambda line: None) -> List[TrainResult]:
    """Times ``train_step`` (forward, loss, backward, AdamW step) of each
    config's model on a synthetic batch of ``settings.shape``, alternating
    the configs in every round; no weights are loaded."""
    from mmengine.optim import OptimWrapper
    from mmengine.registry import DefaultScope

    from mmdualtoken.apis import init_model
    _use_threads(settings)
    results, steps = [], []
    for config in configs:
        progress(f'building {config}')
        model = init_model(
            config, init_weights=False, device=settings.device)
        model.train()
        scope = DefaultScope.get_current_instance().scope_name
        batch = synthetic_batch(model, settings.shape, settings.batch_size)
        wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), 1e-4))

        def step(model=model, batch=batch, wrapper=wrapper, scope=scope):
            with DefaultScope.overwrite_default_scope(scope):
                model.train_step(batch, wrapper)
            synchronize(settings.device)

        name = Path(config).stem
        results.append(
            TrainResult(name, sum(p.numel() for p in model.parameters()),
                        scope))
        steps.append(step)
    for result, step in zip(results, steps):
        progress(f'warm-up and memory of {result.name}')
        with PeakMemory(settings.device) as memory:
            step()
        result.peak_memory = memory.peak
    for round_index in range(settings.rounds):
        for result, step in zip(results, steps):
            progress(f'round {round_index + 1}/{settings.rounds}: '
                     f'{result.name}')
            start = time.perf_counter()
            step()
            result.seconds.append(time.perf_counter() - start)
    return results


def training_table(results: Sequence[TrainResult]) -> str:
    """A Markdown table of seconds per iteration, each config's ratio to
    the first config of its task (detection, segmentation...)."""
    lines = [
        '| config | params (M) | s / iter (median) | s / iter (min-max)'
        ' | vs the first of its task | peak memory (MiB) |', '|---' * 6 + '|'
    ]
    for r in results:
        ref = next(first for first in results if first.task == r.task)
        lines.append(f'| {r.name} | {r.params / 1e6:.2f} | {r.median():.3f} '
                     f'| {min(r.seconds):.3f}-{max(r.seconds):.3f} | '
                     f'{r.median() / ref.median():.2f}x | '
                     f'{r.peak_memory / 2**20:.0f} |')
    return '\n'.join(lines)
