"""One export and one session per deployment format, each through its
runtime's own API; the runtimes are optional and imported when used.

A session is a function of one float32 (B, 3, H, W) array that returns the
model's outputs as arrays, in the order of the PyTorch model's (flattened)
outputs.
"""
import os.path as osp
import platform
import shutil
import tempfile
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from mmdualtoken.errors import ConfigError

Session = Callable[[np.ndarray], List[np.ndarray]]


class RuntimeUnavailable(ConfigError):
    """A format's runtime cannot run here (not installed, another OS, no
    GPU); the message says what it needs."""


def _require(module: str, pip: str):
    try:
        return __import__(module, fromlist=['_'])
    except ImportError:
        raise RuntimeUnavailable(
            f'{module} is not installed: pip install {pip} (make test '
            f'installs the deployment runtimes).') from None


def dynamic_shapes(dynamic: bool, min_size: int):
    """``torch.export``'s dynamic batch, height and width (from
    ``min_size``) of the one input, or None for a static export."""
    if not dynamic:
        return None
    size = dict(min=min_size, max=8192)
    return ({
        0: torch.export.Dim('batch', min=1, max=4096),
        2: torch.export.Dim('height', **size),
        3: torch.export.Dim('width', **size)
    }, )


def exported_program(model: nn.Module, example: torch.Tensor):
    """``torch.export`` of the model on an example input, static."""
    with torch.no_grad():
        return torch.export.export(model, (example, ))


class Format:
    """What every format has: its file, whether one file serves several
    input sizes, and whether it runs on this machine."""

    name = ''
    suffix = ''
    dynamic = False

    def export(self, model: nn.Module, example: torch.Tensor, path: str,
               dynamic: bool, min_size: int) -> None:
        raise NotImplementedError

    def session(self, path: str, threads: Optional[int],
                precision: str) -> Session:
        raise NotImplementedError


class OnnxFormat(Format):
    name, suffix, dynamic = 'onnx', '.onnx', True

    def export(self, model, example, path, dynamic, min_size):
        _require('onnxscript', 'onnxscript')
        with torch.no_grad():
            torch.onnx.export(
                model, (example, ),
                path,
                dynamo=True,
                input_names=['input'],
                dynamic_shapes=dynamic_shapes(dynamic, min_size))

    def session(self, path, threads, precision):
        ort = _require('onnxruntime', 'onnxruntime')
        if precision != 'f32':
            raise ConfigError('ONNX Runtime runs these models in f32 here.')
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        return lambda x: session.run(None, {'input': x})


class OpenVinoFormat(Format):
    name, suffix, dynamic = 'openvino', '.xml', True

    def export(self, model, example, path, dynamic, min_size, dataset=None):
        ov = _require('openvino', 'openvino')
        # OpenVINO's own capture of the module (TorchScript); -1 marks the
        # dynamic axes.
        shape = (-1, 3, -1, -1) if dynamic else tuple(example.shape)
        with torch.no_grad():
            converted = ov.convert_model(
                model, example_input=example, input=[shape])
        if dataset is not None:
            from .quantization import quantize_openvino
            converted = quantize_openvino(converted, dataset)
        # f32 weights: OpenVINO stores f16 by default.
        ov.save_model(converted, path, compress_to_fp16=False)

    def session(self, path, threads, precision):
        ov = _require('openvino', 'openvino')
        config = {
            'PERFORMANCE_HINT': 'LATENCY',
            'INFERENCE_PRECISION_HINT': precision
        }
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        compiled = ov.Core().compile_model(path, 'CPU', config)
        request = compiled.create_infer_request()

        def run(x):
            request.infer({0: x})
            return [
                request.get_output_tensor(i).data.copy()
                for i in range(len(compiled.outputs))
            ]

        return run


class ExecuTorchFormat(Format):
    name, suffix = 'executorch', '.pte'

    def export(self, model, example, path, dynamic, min_size):
        exir = _require('executorch.exir', 'executorch')
        xnnpack = _require(
            'executorch.backends.xnnpack.partition.xnnpack_partitioner',
            'executorch')
        program = exir.to_edge_transform_and_lower(
            exported_program(model, example),
            partitioner=[xnnpack.XnnpackPartitioner()]).to_executorch()
        with open(path, 'wb') as f:
            f.write(program.buffer)

    def session(self, path, threads, precision):
        runtime = _require('executorch.runtime', 'executorch')
        if precision != 'f32':
            raise ConfigError('ExecuTorch runs the f32 program it was given.')
        if threads:
            # XNNPACK's thread pool is the process's; its size has no other
            # setter than this one of ExecuTorch's Python bindings.
            from executorch.extension.pybindings import portable_lib
            portable_lib._unsafe_reset_threadpool(threads)
        method = runtime.Runtime.get().load_program(path).load_method(
            'forward')
        return lambda x: [
            out.numpy() for out in method.execute([torch.from_numpy(x)])
        ]


class CoreMlFormat(Format):
    name, suffix = 'coreml', '.mlpackage'

    def export(self, model, example, path, dynamic, min_size):
        ct = _require('coremltools', 'coremltools')
        program = exported_program(model, example)
        converted = ct.convert(
            program.run_decompositions({}),
            inputs=[ct.TensorType(name='input', shape=tuple(example.shape))],
            convert_to='mlprogram',
            compute_precision=ct.precision.FLOAT32,
            minimum_deployment_target=ct.target.iOS17)
        if osp.isdir(path):
            shutil.rmtree(path)
        converted.save(path)

    def session(self, path, threads, precision):
        ct = _require('coremltools', 'coremltools')
        if platform.system() != 'Darwin':
            raise RuntimeUnavailable(
                f'Core ML predictions need macOS; on {platform.system()} the '
                f'package is converted and its specification checked.')
        model = ct.models.MLModel(path)
        names = [o.name for o in model.get_spec().description.output]
        return lambda x: [model.predict({'input': x})[n] for n in names]

    def check(self, path, model, example) -> str:
        """The package's specification against the PyTorch model, where
        predictions cannot run: what was checked."""
        ct = _require('coremltools', 'coremltools')
        spec = ct.models.MLModel(path, skip_model_load=True).get_spec()
        inputs = [(i.name, list(i.type.multiArrayType.shape))
                  for i in spec.description.input]
        outputs = [
            list(o.type.multiArrayType.shape) for o in spec.description.output
        ]
        with torch.no_grad():
            expected = [
                list(t.shape)
                for t in torch.utils._pytree.tree_leaves(model(example))
            ]
        if inputs != [('input', list(example.shape))] or outputs != expected:
            raise ConfigError(
                f'{path}: the Core ML specification takes {inputs} and gives '
                f'{outputs}; PyTorch takes {list(example.shape)} and gives '
                f'{expected}.')
        return (f'specification checked: input {list(example.shape)}, '
                f'{len(outputs)} outputs of the PyTorch shapes')


class TensorRtFormat(Format):
    """TensorRT engines, built from the ONNX file by TensorRT's parser, for
    the GPU they are built on."""

    name, suffix, dynamic = 'tensorrt', '.engine', True

    def export(self, model, example, path, dynamic, min_size):
        trt = self._tensorrt()
        with tempfile.TemporaryDirectory() as folder:
            onnx_path = osp.join(folder, 'model.onnx')
            OnnxFormat().export(model, example, onnx_path, dynamic, min_size)
            logger = trt.Logger(trt.Logger.WARNING)
            builder = trt.Builder(logger)
            network = builder.create_network(0)
            parser = trt.OnnxParser(network, logger)
            if not parser.parse_from_file(onnx_path):
                errors = [
                    str(parser.get_error(i)) for i in range(parser.num_errors)
                ]
                raise ConfigError(f'TensorRT cannot parse the ONNX export: '
                                  f'{"; ".join(errors)}')
            config = builder.create_builder_config()
            config.clear_flag(trt.BuilderFlag.TF32)  # f32 parity
            if dynamic:
                profile = builder.create_optimization_profile()
                shape = tuple(example.shape)
                profile.set_shape(
                    'input', (1, 3, min_size, min_size), shape,
                    (shape[0] * 4, 3, shape[2] * 2, shape[3] * 2))
                config.add_optimization_profile(profile)
            engine = builder.build_serialized_network(network, config)
        with open(path, 'wb') as f:
            f.write(engine)

    def session(self, path, threads, precision):
        trt = self._tensorrt()
        with open(path, 'rb') as f:
            engine = trt.Runtime(trt.Logger(
                trt.Logger.WARNING)).deserialize_cuda_engine(f.read())
        context = engine.create_execution_context()
        names = [
            engine.get_tensor_name(i) for i in range(engine.num_io_tensors)
        ]
        outputs = [
            n for n in names
            if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT
        ]

        def run(x):
            inputs = torch.from_numpy(x).cuda()
            context.set_input_shape('input', tuple(x.shape))
            context.set_tensor_address('input', inputs.data_ptr())
            results = []
            for name in outputs:
                out = torch.empty(
                    tuple(context.get_tensor_shape(name)), device='cuda')
                context.set_tensor_address(name, out.data_ptr())
                results.append(out)
            stream = torch.cuda.current_stream()
            context.execute_async_v3(stream.cuda_stream)
            stream.synchronize()
            return [out.cpu().numpy() for out in results]

        return run

    @staticmethod
    def _tensorrt():
        if not torch.cuda.is_available():
            raise RuntimeUnavailable(
                'TensorRT builds and runs engines on an NVIDIA GPU, and this '
                'machine has none (torch.cuda.is_available() is False).')
        return _require('tensorrt', 'tensorrt')


FORMATS: Dict[str, Format] = {
    f.name: f
    for f in (OnnxFormat(), OpenVinoFormat(), ExecuTorchFormat(),
              CoreMlFormat(), TensorRtFormat())
}


def max_difference(outputs: Sequence[np.ndarray],
                   expected: Sequence[np.ndarray]) -> tuple:
    """The largest difference over the outputs, relative where the
    expected values are larger than 1 (|a - b| / max(1, |b|)), and the
    index of the output where it lies."""
    if len(outputs) != len(expected):
        raise ConfigError(f'The runtime gave {len(outputs)} outputs, PyTorch '
                          f'{len(expected)}.')
    worst, where = 0., 0
    for index, (out, ref) in enumerate(zip(outputs, expected)):
        if tuple(out.shape) != tuple(ref.shape):
            raise ConfigError(f'Output {index} has shape {tuple(out.shape)}, '
                              f'PyTorch\'s {tuple(ref.shape)}.')
        error = float((np.abs(out - ref) / np.maximum(1, np.abs(ref))).max())
        if error > worst:
            worst, where = error, index
    return worst, where


def torch_outputs(model: nn.Module, x: np.ndarray) -> List[np.ndarray]:
    """The PyTorch model's outputs, flattened, as arrays."""
    with torch.no_grad():
        outputs = model(torch.from_numpy(x))
    return [t.numpy() for t in torch.utils._pytree.tree_leaves(outputs)]
