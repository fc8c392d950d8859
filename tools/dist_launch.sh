#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: runs SCRIPT under torchrun.
#   tools/dist_launch.sh SCRIPT NUM_PROCS_PER_NODE [script args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# SIGTERM and SIGINT sent to this script reach torchrun, which passes them
# on to its processes; SIGUSR1 (Slurm's early warning), which torchrun would
# die of, goes to its processes directly. Training then writes a checkpoint
# and stops (mmdualtoken.PreemptionHook).
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
PYTHONPATH="$ROOT:${PYTHONPATH:-}" torchrun \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROCS" \
    "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch &
launcher=$!
trap 'kill -TERM "$launcher" 2>/dev/null || true' TERM
trap 'kill -INT "$launcher" 2>/dev/null || true' INT
trap 'pkill -USR1 -P "$launcher" || true' USR1
# `wait` returns early when a trapped signal arrives: wait again until
# torchrun has ended, and exit with its status.
while :; do
    status=0
    wait "$launcher" || status=$?
    kill -0 "$launcher" 2>/dev/null || break
done
exit "$status"
