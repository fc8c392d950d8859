# The hooks that protect a run, declared once for the three task libraries
# (their runtime bases, and mmseg's schedules, which hold mmseg's hooks,
# merge this into default_hooks). Each is in mmdualtoken.engine; set one to
# None in default_hooks to turn it off (e.g. default_hooks.divergence=None).
# - checkpoint: written whole, then renamed; old ones removed only after.
# - exact_resume: seeds each iteration; continues an epoch where it stopped.
# - dataset_check: empty datasets and broken COCO files stop before work.
# - preemption: SIGTERM / SIGUSR1 / SIGINT write a checkpoint, then stop.
# - divergence: a NaN or inf loss stops the run before it saves.
# - work_dir_lock: a second run on the same work dir stops before work.
run_protections = dict(
    checkpoint=dict(type='mmdualtoken.AtomicCheckpointHook'),
    exact_resume=dict(type='mmdualtoken.ExactResumeHook'),
    dataset_check=dict(type='mmdualtoken.DatasetCheckHook'),
    preemption=dict(type='mmdualtoken.PreemptionHook'),
    divergence=dict(type='mmdualtoken.DivergenceHook'),
    work_dir_lock=dict(type='mmdualtoken.WorkDirLockHook'),
)
