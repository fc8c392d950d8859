#!/usr/bin/env bash
# Shared by slurm_train.sh and slurm_test.sh: runs SCRIPT under srun, one
# process per GPU.
#   tools/slurm_launch.sh SCRIPT PARTITION JOB_NAME [script args...]
# GPUS (total, default 8), GPUS_PER_NODE (default: GPUS, at most 8),
# CPUS_PER_TASK (5), SRUN_ARGS (extra srun options) as in the OpenMMLab
# scripts.
set -euo pipefail
SCRIPT=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$((GPUS < 8 ? GPUS : 8))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    python -u "$ROOT/tools/$SCRIPT" "${@:4}" --launcher slurm
