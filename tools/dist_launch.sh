#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: runs SCRIPT under torchrun
# (mmdualtoken.cli.launch, in the launcher's own process).
#   tools/dist_launch.sh SCRIPT NUM_PROCS_PER_NODE [script args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# SIGTERM, SIGINT and SIGUSR1 sent to this script reach the processes, which
# then write a checkpoint and stop (mmdualtoken.PreemptionHook). It exits
# with the processes' status (128 + the signal, 1 for an error) and ends on
# their one line, said once.
set -euo pipefail
SCRIPT=$1
NPROCS=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if ! [[ "$NPROCS" =~ ^[1-9][0-9]*$ ]]; then
    echo "NUM_PROCS_PER_NODE must be a positive integer (processes, usually" \
        "one per GPU), got '$NPROCS'." >&2
    exit 2
fi
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
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "${PYTHON:-python}" -m mmdualtoken.cli.launch \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROCS" \
    "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
