"""Export a model of a config to ONNX, OpenVINO (FP32 or INT8), ExecuTorch,
Core ML or TensorRT; compare the runtime's outputs with PyTorch's and time
it at batch 1.

    python tools/deployment/export.py CONFIG [CHECKPOINT]
        --format {onnx,openvino,executorch,coreml,tensorrt} [--int8]
        [--backbone-only] [--dynamic] [--shape H W] [--verify-shape H W]
        [--threads N] [--out FILE]
"""
import os.path as osp
import sys

# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmdualtoken.cli import run  # noqa: E402
from mmdualtoken.cli.export import main  # noqa: E402

if __name__ == '__main__':
    run(main)
