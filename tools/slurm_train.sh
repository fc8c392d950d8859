#!/usr/bin/env bash
# Training on a Slurm cluster: srun starts one process per GPU.
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS: see slurm_launch.sh.
# Slurm sends SIGUSR1 SIGNAL_LEAD seconds (default 120) before the time
# limit: training then writes a checkpoint and stops; inside a batch job
# submitted with `sbatch --requeue` it requeues itself and, started again,
# resumes from that checkpoint (mmdualtoken.PreemptionHook).
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG [train.py args...]" >&2
    exit 2
fi
SRUN_ARGS="--signal=USR1@${SIGNAL_LEAD:-120} ${SRUN_ARGS:-}" \
    exec bash "$(dirname "$0")/slurm_launch.sh" train.py "$@"
