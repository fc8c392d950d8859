#!/usr/bin/env bash
# Training on a Slurm cluster: srun starts one process per GPU.
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS: see slurm_launch.sh.
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG [train.py args...]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/slurm_launch.sh" train.py "$@"
