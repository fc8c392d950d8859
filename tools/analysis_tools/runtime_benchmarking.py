"""Speed of the models in the runtimes they are deployed with, in one run.

Every model is exported once to each format (mmdualtoken.deployment: the
same code as tools/deployment/export.py) and checked against PyTorch at
batch 1. Each runtime then runs in a worker process of its own, holding
every model's session, and the rounds alternate models and runtimes: the
parent asks one worker at a time for a timing while every other worker is
stopped (SIGSTOP), so no runtime's spinning threads (OpenVINO's and ONNX
Runtime's keep spinning after a call) take the cores of the next one.

Runtimes: ``torch`` (eager), ``onnxruntime``, ``openvino`` (f32 precision
hint), ``openvino-bf16`` (added where OpenVINO reports BF16 on this CPU),
``openvino-int8`` (NNCF; calibrated on random images: a speed figure, not
an accuracy one) and ``executorch`` (XNNPACK).
"""
import multiprocessing
import os
import os.path as osp
import signal
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

RUNTIMES = ('torch', 'onnxruntime', 'openvino', 'openvino-bf16',
            'openvino-int8', 'executorch')
# The format a runtime reads and the precision it computes in.
FORMAT = {
    'torch': None,
    'onnxruntime': 'onnx',
    'openvino': 'openvino',
    'openvino-bf16': 'openvino',
    'openvino-int8': 'openvino',
    'executorch': 'executorch'
}
PRECISION = {
    'torch': 'f32',
    'onnxruntime': 'f32',
    'openvino': 'f32',
    'openvino-bf16': 'bf16',
    'openvino-int8': 'int8',
    'executorch': 'f32'
}


@dataclass
class RuntimeResult:
    """One model in one runtime; times in seconds, rates in images/s."""
    model: str
    runtime: str
    precision: str
    throughput: List[float] = field(default_factory=list)
    latency: List[float] = field(default_factory=list)
    difference: Optional[float] = None  # vs PyTorch f32 at batch 1
    export_seconds: Optional[float] = None
    error: Optional[str] = None  # why this model did not run here

    def median_throughput(self) -> float:
        return statistics.median(self.throughput)

    def median_latency(self) -> float:
        return statistics.median(self.latency)


def openvino_has_bf16() -> bool:
    import openvino as ov
    return 'BF16' in ov.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')


def export_file(folder: str, model_name: str, runtime: str,
                batch_size: int) -> str:
    """The file of a model in a runtime's format, one static file a batch
    size, as a deployment would export it (some peers' code, LightViT's,
    does not export with symbolic sizes)."""
    from mmdualtoken.deployment.runtimes import FORMATS
    name = model_name.replace('/', '_')
    if runtime == 'openvino-int8':
        name += '_int8'
    suffix = FORMATS[FORMAT[runtime]].suffix
    return osp.join(folder, f'{name}_b{batch_size}{suffix}')


def export_all(models: Dict[str, torch.nn.Module], runtimes: Sequence[str],
               folder: str, shape: Sequence[int], batch_size: int,
               progress: Callable[[str], None]) -> tuple:
    """Writes every model in every runtime's format (files already there
    are kept: a run can reuse the exports of the last); returns the
    seconds the new exports took and why those that failed did, both by
    (model, runtime)."""
    from mmdualtoken.deployment.runtimes import FORMATS
    seconds, failed = {}, {}
    for name, model in models.items():
        for runtime in runtimes:
            fmt = FORMAT[runtime]
            if fmt is None or runtime == 'openvino-bf16':
                continue
            for batch in (1, batch_size):
                path = export_file(folder, name, runtime, batch)
                if osp.exists(path):
                    continue
                progress(f'exporting {name} for {runtime} (batch {batch})')
                start = time.perf_counter()
                extra = {}
                if runtime == 'openvino-int8':
                    rng = np.random.default_rng(0)
                    extra['dataset'] = [
                        rng.standard_normal((batch, 3, *shape),
                                            dtype=np.float32)
                        for _ in range(max(32 // batch, 1))
                    ]
                try:
                    FORMATS[fmt].export(model, torch.randn(batch, 3, *shape),
                                        path, False, 32, **extra)
                except Exception as error:  # the row says why, the run goes on
                    failed[(name, runtime)] = (
                        f'export: {type(error).__name__}: {error}')
                    break
                seconds[(name, runtime)] = (
                    seconds.get(
                        (name, runtime), 0) + time.perf_counter() - start)
    return seconds, failed


def _sessions(runtime: str, folder: str, names: Sequence[str], builder, shape,
              batch_size, threads) -> Dict[tuple, Callable]:
    """(model, batch) -> a function of one array, in this runtime; a model
    the runtime cannot load maps to the error's text."""
    sessions = {}
    if runtime == 'torch':
        torch.set_num_threads(threads)
        for name in names:
            model = builder(name)

            def run(x, model=model):
                with torch.inference_mode():
                    return model(torch.from_numpy(x))

            sessions[(name, 1)] = sessions[(name, batch_size)] = run
        return sessions
    from mmdualtoken.deployment.runtimes import FORMATS
    fmt = FORMATS[FORMAT[runtime]]
    precision = 'bf16' if runtime == 'openvino-bf16' else 'f32'
    for name in names:
        for batch in (1, batch_size):
            try:
                sessions[(name, batch)] = fmt.session(
                    export_file(folder, name, runtime, batch), threads,
                    precision)
            except Exception as error:  # the row says why, the run goes on
                sessions[(name,
                          batch)] = (f'load: {type(error).__name__}: {error}')
    return sessions


def _time(session: Callable, x: np.ndarray, min_seconds: float,
          min_runs: int) -> float:
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_seconds:
        session(x)
        runs += 1
    return (time.perf_counter() - start) / runs


def check_input(batch: int, shape: Sequence[int]) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((batch, 3, *shape),
                                                    dtype=np.float32)


def worker(connection, runtime: str, folder: str, names: Sequence[str],
           builder, shape, batch_size: int, threads: int) -> None:
    """A runtime's process: loads every session, then answers the parent's
    requests, (model, batch size, seconds, runs) -> seconds per call, until
    it receives None. Its first message is 'ready', the models it could not
    run (with why) and the others' outputs for :func:`check_input`."""
    import warnings
    warnings.filterwarnings('ignore')
    try:
        sessions = _sessions(runtime, folder, names, builder, shape,
                             batch_size, threads)
        inputs = {
            batch: check_input(batch, shape)
            for batch in (1, batch_size)
        }
        failed, outputs = {}, {}
        for (name, batch), session in sessions.items():
            if name in failed:
                continue
            if isinstance(session, str):
                failed[name] = session
                continue
            try:
                out = session(inputs[batch])  # warm-up
            except Exception as error:
                failed[name] = f'run: {type(error).__name__}: {error}'
                continue
            if batch == 1:
                outputs[name] = out
        connection.send(('ready', failed, outputs))
    except Exception as error:  # reported by the parent, with the runtime
        connection.send(f'error: {type(error).__name__}: {error}')
        return
    while True:
        request = connection.recv()
        if request is None:
            return
        name, batch, seconds, runs = request
        connection.send(
            _time(sessions[(name, batch)], inputs[batch], seconds, runs))


def run_runtimes(models: Dict[str, torch.nn.Module], runtimes: Sequence[str],
                 folder: str, builder, shape: Sequence[int], batch_size: int,
                 threads: int, rounds: int, latency_runs: int,
                 progress: Callable[[str], None]) -> List[RuntimeResult]:
    """Measures every model in every runtime, alternating both in each
    round, one runtime's process running at a time."""
    from mmdualtoken.deployment.runtimes import max_difference, torch_outputs
    os.makedirs(folder, exist_ok=True)
    exported, failed = export_all(models, runtimes, folder, shape, batch_size,
                                  progress)
    results = {
        (name, runtime):
        RuntimeResult(
            name,
            runtime,
            PRECISION[runtime],
            export_seconds=exported.get((name, runtime)),
            error=failed.get(
                (name, 'openvino' if runtime == 'openvino-bf16' else runtime)))
        for name in models
        for runtime in runtimes
    }
    context = multiprocessing.get_context('spawn')
    workers = {}
    x = check_input(1, shape)
    expected = {}  # PyTorch's outputs, once a model
    try:
        for runtime in runtimes:
            progress(f'starting {runtime} with {len(models)} models')
            parent, child = context.Pipe()
            process = context.Process(
                target=worker,
                args=(child, runtime, folder,
                      [n for n in models if not results[(n, runtime)].error
                       ], builder, tuple(shape), batch_size, threads),
                daemon=True)
            process.start()
            workers[runtime] = (process, parent)
            answer = parent.recv()
            if isinstance(answer, str):  # the runtime itself failed
                raise RuntimeError(f'{runtime}: {answer}')
            _, errors, outputs = answer
            for name, error in errors.items():
                progress(f'{name} does not run in {runtime}: {error}')
                results[(name, runtime)].error = error
            if PRECISION[runtime] == 'f32' and runtime != 'torch':
                for name, out in outputs.items():
                    if name not in expected:
                        expected[name] = torch_outputs(models[name], x)
                    results[(name, runtime)].difference = max_difference(
                        out, expected[name])[0]
            os.kill(process.pid, signal.SIGSTOP)
        for index in range(rounds):
            for name in models:
                for runtime, (process, connection) in workers.items():
                    if results[(name, runtime)].error:
                        continue
                    progress(f'round {index + 1}/{rounds}: {name} in '
                             f'{runtime}')
                    os.kill(process.pid, signal.SIGCONT)
                    connection.send((name, batch_size, 0.3, 1))
                    seconds = connection.recv()
                    results[(name,
                             runtime)].throughput.append(batch_size / seconds)
                    connection.send((name, 1, 0, latency_runs))
                    results[(name, runtime)].latency.append(connection.recv())
                    os.kill(process.pid, signal.SIGSTOP)
    finally:  # stopped workers would never end: wake each, then end it
        for process, connection in workers.values():
            os.kill(process.pid, signal.SIGCONT)
            if process.is_alive():
                try:
                    connection.send(None)
                except OSError:
                    pass
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    return list(results.values())


def table(results: Sequence[RuntimeResult], reference: str,
          batch_size: int) -> str:
    """Markdown: every model in every runtime, with ratios to the reference
    model in the same runtime."""
    by_key = {(r.model, r.runtime): r for r in results}
    lines = [
        f'| model | runtime | precision | img/s at batch {batch_size} | vs '
        f'{reference} '
        f'| ms at batch 1 | vs {reference} | difference from PyTorch |',
        '|---' * 8 + '|'
    ]
    for r in results:
        ref = by_key.get((reference, r.runtime))
        if ref is not None and ref.error:
            ref = None
        if r.error:
            lines.append(f'| {r.model} | {r.runtime} | {r.precision} | '
                         f'not run: {r.error.splitlines()[0][:120]} |' +
                         ' |' * 4)
            continue
        lines.append(
            f'| {r.model} | {r.runtime} | {r.precision} | '
            f'{r.median_throughput():.1f} | ' +
            (f'{r.median_throughput() / ref.median_throughput():.2f}x'
             if ref else '-') + f' | {r.median_latency() * 1e3:.2f} | ' +
            (f'{r.median_latency() / ref.median_latency():.2f}x'
             if ref else '-') + ' | ' +
            (f'{r.difference:.1e}' if r.difference is not None else '-') +
            ' |')
    return '\n'.join(lines)


def fastest(results: Sequence[RuntimeResult], precision: str,
            metric: str) -> Dict[str, RuntimeResult]:
    """Each model's fastest runtime at a precision, by ``'throughput'``
    (batch 32) or ``'latency'`` (batch 1)."""
    best = {}
    for r in results:
        if r.precision != precision or r.error:
            continue
        current = best.get(r.model)
        if metric == 'throughput':
            better = (
                current is None
                or r.median_throughput() > current.median_throughput())
        else:
            better = (
                current is None
                or r.median_latency() < current.median_latency())
        if better:
            best[r.model] = r
    return best


def runtime_profile(runtime: str,
                    path: str,
                    shape: Sequence[int],
                    threads: int,
                    runs: int = 20,
                    top: int = 12) -> dict:
    """Where a batch-1 call spends its time, by the runtime's own profiler:
    OpenVINO's performance counters or ONNX Runtime's profiling, summed by
    operation type over ``runs`` calls. Returns the milliseconds per call
    of the profiled operations and the ``top`` types (ms per call, share,
    how many nodes)."""
    x = np.random.default_rng(0).standard_normal((1, 3, *shape),
                                                 dtype=np.float32)
    by_type: Dict[str, list] = {}
    if FORMAT[runtime] == 'openvino':
        import openvino as ov
        compiled = ov.Core().compile_model(
            path, 'CPU', {
                'PERF_COUNT':
                True,
                'PERFORMANCE_HINT':
                'LATENCY',
                'INFERENCE_NUM_THREADS':
                threads,
                'INFERENCE_PRECISION_HINT':
                PRECISION[runtime] if PRECISION[runtime] != 'int8' else 'f32'
            })
        request = compiled.create_infer_request()
        request.infer({0: x})
        for _ in range(runs):
            request.infer({0: x})
            for info in request.profiling_info:
                if info.status != info.Status.EXECUTED:
                    continue
                kind = f'{info.node_type} ({info.exec_type})'
                entry = by_type.setdefault(kind, [0., set()])
                entry[0] += info.real_time.total_seconds() * 1e3
                entry[1].add(info.node_name)
    elif runtime == 'onnxruntime':
        import json
        import tempfile

        import onnxruntime as ort
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        with tempfile.TemporaryDirectory() as folder:  # not in the cwd
            options.profile_file_prefix = osp.join(folder, 'onnxruntime')
            session = ort.InferenceSession(
                path, options, providers=['CPUExecutionProvider'])
            session.run(None, {'input': x})
            for _ in range(runs):
                session.run(None, {'input': x})
            with open(session.end_profiling()) as f:
                events = json.load(f)
        for event in events:
            if event.get('cat') != 'Node' or not event['name'].endswith(
                    '_kernel_time'):
                continue
            kind = event['args'].get('op_name', '?')
            entry = by_type.setdefault(kind, [0., set()])
            entry[0] += event['dur'] / 1e3
            entry[1].add(event['name'])
        # The warm-up call is in the file too.
        runs += 1
    else:
        raise ValueError(f'{runtime} has no profiler here')
    total = sum(ms for ms, _ in by_type.values()) or 1
    ranked = sorted(by_type.items(), key=lambda item: -item[1][0])[:top]
    return dict(
        runtime=runtime,
        ms_per_call=total / runs,
        top=[
            dict(op=kind, ms=ms / runs, share=ms / total, nodes=len(nodes))
            for kind, (ms, nodes) in ranked
        ])


def profile_summary(model: str, profile: dict) -> str:
    lines = [
        f'profile of {model} in {profile["runtime"]} at batch 1: '
        f'{profile["ms_per_call"]:.2f} ms of profiled operations per call'
    ]
    lines += [
        f'  {100 * t["share"]:4.1f} %  {t["ms"]:7.3f} ms  {t["nodes"]:4d} '
        f'nodes  {t["op"]}' for t in profile['top']
    ]
    return '\n'.join(lines)
