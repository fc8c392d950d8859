#!/usr/bin/env bash
# Distributed training with torchrun (PyTorch's elastic launcher).
#   tools/dist_train.sh CONFIG NUM_PROCS_PER_NODE [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA, the processes run on the CPU with the gloo backend.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NUM_PROCS_PER_NODE [train.py args...]" >&2
    exit 2
fi
CONFIG=$1
NPROCS=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
# One node: any free port. Several nodes must agree: PORT or 29500.
if [ -z "${PORT:-}" ]; then
    if [ "$NNODES" -eq 1 ]; then
        PORT=$(python "$ROOT/tools/free_port.py")
    else
        PORT=29500
    fi
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec torchrun \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROCS" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
