"""What our tools do to a config before a run, and what the hosts' tools
do not: the user's ``--cfg-options`` merged (a dict replacing a non-dict,
schedules following a changed run length, optimizer settings given on
resume), the config adapted to a machine without CUDA, and the checks that
stop a run that cannot work before it starts.

The config's ``default_scope`` (``mmpretrain``, ``mmdet`` or ``mmseg``)
decides which task library runs; everything here works for all three. What
a run does (how it saves, seeds, checks its data) is declared by the config
itself (our ``configs/_base_``, whose hooks do the same under the hosts'
tools); each change made here is reported in one line.
"""
import copy
import difflib
import inspect
import os
import os.path as osp
from typing import Iterable, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import (DATA_SAMPLERS, DATASETS, HOOKS, LOOPS, METRICS,
                               MODELS, OPTIM_WRAPPERS, OPTIMIZERS,
                               PARAM_SCHEDULERS, TRANSFORMS, VISUALIZERS,
                               DefaultScope)

from mmdualtoken.apis.config import (backbone_checkpoint, read_config, say,
                                     set_pretrained)
from mmdualtoken.errors import ConfigError

TASK_SCOPES = ('mmpretrain', 'mmdet', 'mmseg')
# The hooks our runtime bases declare, in the one file that declares them
# (shipped in the package, as the configs are).
PROTECTIONS_FILE = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim', 'configs',
    '_base_', 'run_protections.py')


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Reads a config, applies overrides, picks the work dir and adapts
    the config to this machine; stops on values that cannot work.

    The work dir is, in order: ``work_dir``, the config's ``work_dir``, or
    ``./work_dirs/<config name>`` as in the OpenMMLab tools.
    """
    cfg = read_config(path)
    if cfg_options:
        check_option_keys(cfg, cfg_options)
        lengths = _schedule_length(cfg)
        cfg.merge_from_dict(_replacing_non_dicts(cfg, cfg_options))
        if 'pretrained' in cfg_options:
            set_pretrained(cfg, cfg_options['pretrained'])
        _follow_schedule_length(cfg, lengths)
    scope = cfg.get('default_scope')
    if scope not in TASK_SCOPES:
        raise ConfigError(f'{path}: default_scope must be one of '
                          f'{TASK_SCOPES} (inherit a task library _base_), '
                          f'got {scope!r}.')
    check_values(cfg)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    if osp.exists(cfg.work_dir) and not osp.isdir(cfg.work_dir):
        raise ConfigError(f'--work-dir {cfg.work_dir}: this is a file, not '
                          f'a folder. Name a folder for the logs and '
                          f'checkpoints.')
    adapt_to_machine(cfg)
    return cfg


# --- the user's overrides ---------------------------------------------------


def _class_of(node: dict, name: str):
    """The class a config dict builds, if it can be found: its ``type``,
    or for train_cfg / val_cfg / test_cfg mmengine's loop."""
    kind = node.get('type')
    if kind is None and name == 'train_cfg':
        kind = ('EpochBasedTrainLoop' if node.get('by_epoch', False) else
                'IterBasedTrainLoop' if 'max_iters' in node else None)
    elif kind is None and name in ('val_cfg', 'test_cfg'):
        kind = 'ValLoop' if name == 'val_cfg' else 'TestLoop'
    if not isinstance(kind, str):
        return None
    scope = DefaultScope.get_current_instance()
    with DefaultScope.overwrite_default_scope(
            scope.scope_name if scope else None):
        for registry in (MODELS, HOOKS, LOOPS, DATASETS, TRANSFORMS,
                         DATA_SAMPLERS, OPTIM_WRAPPERS, OPTIMIZERS,
                         PARAM_SCHEDULERS, METRICS, VISUALIZERS):
            try:
                found = registry.get(kind)
            except KeyError:
                found = None
            if found is not None:
                return found
    return None


def _accepted_arguments(cls) -> Optional[List[str]]:
    """The keyword arguments ``cls`` takes, or None if it takes any."""
    parameters = inspect.signature(cls).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters]


def check_option_keys(cfg: Config, options: dict) -> None:
    """Stops on a ``--cfg-options`` key that the run would ignore or fail
    on deep inside: a section the config does not have (it would be added
    and silently ignored), or a new argument that the section's class does
    not take. Both say the closest name."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        for key in options:
            _check_option_key(cfg.to_dict(), key)


def _check_option_key(node, key: str) -> None:
    parts = key.split('.')
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        where = '.'.join(parts[:depth + 1])
        if not last:
            known = list(node) if isinstance(node, dict) else []
        else:
            cls = _class_of(node, parts[-2] if depth else '')
            known = _accepted_arguments(cls) if cls else None
            if known is None or part in known:
                return  # a new argument its builder takes or checks
        close = difflib.get_close_matches(part, known, n=1)
        hint = f'; did you mean {close[0]!r}?' if close else '.'
        raise ConfigError(f'--cfg-options {key}: the config has no '
                          f'{where!r}{hint}')


def _replacing_non_dicts(cfg: Config, options: dict) -> dict:
    """A dict option for a key whose value is not a dict (e.g. an
    ``init_cfg`` of None) replaces it, where mmengine would refuse to
    merge. mmengine drops ``_delete_`` only where the key exists: a new
    key gets the dict as it is."""
    replaced = dict(options)
    for key, value in options.items():
        *parents, name = key.split('.')
        node = cfg.to_dict()
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if (isinstance(value, dict) and isinstance(node, dict) and name in node
                and not isinstance(node[name], dict)):
            replaced[key] = {**value, '_delete_': True}
    return replaced


def _schedule_length(cfg: Config) -> tuple:
    loop = cfg.get('train_cfg') or {}
    return loop.get('max_epochs'), loop.get('max_iters')


def _follow_schedule_length(cfg: Config, before: tuple) -> None:
    """When an override shortens or lengthens the run, the schedulers that
    count in the run's unit (epochs, or iterations for an iteration-based
    run) keep their share of it: begin, end, milestones and T_max scale by
    new / old length. Warm-ups counted in iterations of an epoch-based run
    stay as they are."""
    for index, unit in ((0, 'epochs'), (1, 'iters')):
        old, new = before[index], _schedule_length(cfg)[index]
        if old and new and old != new and new > 0:
            by_epoch = unit == 'epochs'
            schedulers = cfg.get('param_scheduler') or []
            if isinstance(schedulers, dict):
                schedulers = [schedulers]
            changed = [
                s.type for s in schedulers
                if s.get('by_epoch', True) == by_epoch
                and _scale_scheduler(s, new / old)
            ]
            if changed:
                say(f'train_cfg.max_{unit} {old} -> {new}: '
                    f'{", ".join(changed)} rescaled to the new length '
                    f'(set param_scheduler yourself to keep the old one).')


def _scale_scheduler(scheduler: dict, factor: float) -> bool:
    scaled = False
    for key in ('begin', 'end', 'T_max'):
        value = scheduler.get(key)
        if isinstance(value, (int, float)) and 0 < value < 1e9:
            scheduler[key] = max(1, round(value * factor))
            scaled = True
    if scaled and 'end' in scheduler and scheduler['end'] < 1e9:
        # a phase that shrank to nothing still spans one unit, so the
        # scheduler stays valid (it may then start after the run ends)
        scheduler.end = max(scheduler.end, scheduler.get('begin', 0) + 1)
    if scheduler.get('milestones'):
        scheduler.milestones = [
            max(1, round(m * factor)) for m in scheduler.milestones
        ]
        scaled = True
    return scaled


def apply_on_resume(cfg: Config, options: dict) -> None:
    """Makes the ``--cfg-options`` that a resumed run would ignore count:
    optimizer settings (``optim_wrapper.optimizer.*``) are applied to the
    checkpoint's optimizer and schedules
    (:class:`~mmdualtoken.engine.OptimizerOverrideHook`); a changed
    ``param_scheduler``, which the checkpoint's schedulers replace, stops
    the run."""
    prefix = 'optim_wrapper.optimizer'
    keys = set()
    for key, value in options.items():
        if key.split('.')[0] == 'param_scheduler':
            raise ConfigError(
                f'--cfg-options {key} with --resume: a resumed run continues '
                f'the parameter schedulers of its checkpoint, which would '
                f'replace this change. Start a new run from the checkpoint\'s '
                f'weights to train with other schedules (--cfg-options '
                f'load_from=CKPT, without --resume).')
        if key == prefix and isinstance(value, dict):
            keys.update(value)
        elif key.startswith(prefix + '.'):
            keys.add(key[len(prefix) + 1:].split('.')[0])
    if keys:
        cfg.custom_hooks = [
            *(cfg.get('custom_hooks') or []),
            dict(type='mmdualtoken.OptimizerOverrideHook', keys=sorted(keys))
        ]


def check_values(cfg: Config) -> None:
    """Stops on values that would train nothing or fail deep inside."""
    loop = cfg.get('train_cfg') or {}
    for key in ('max_epochs', 'max_iters', 'val_interval'):
        value = loop.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(
                f'train_cfg.{key}={value!r}: must be a positive whole number '
                f'({"epochs" if key == "max_epochs" else "iterations"}).')
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader') or {}
        size = loader.get('batch_size')
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ConfigError(
                f'{split}_dataloader.batch_size={size!r}: must be at least 1 '
                f'(images per process and iteration).')


# --- what must exist before a run starts ------------------------------------


def check_pretrained(cfg: Config, config_path: str) -> None:
    """Stops before any work when the backbone's ImageNet checkpoint is a
    local file that does not exist, and says the ways forward."""
    init_cfg = backbone_checkpoint(cfg)
    if init_cfg is None:
        return
    checkpoint = init_cfg.get('checkpoint')
    if not checkpoint or '://' in checkpoint or osp.isfile(checkpoint):
        return
    arch = cfg.model.backbone.get('arch', 's')
    classifier = f'configs/classification/dualtoken-vit-{arch}_8xb128_in1k.py'
    raise ConfigError(
        f'{config_path}: the backbone\'s ImageNet checkpoint {checkpoint!r} '
        f'(config variable `pretrained`) does not exist. Train the ImageNet '
        f'classifier and put its checkpoint there (tools/dist_train.sh '
        f'{classifier} 8, then cp work_dirs/'
        f'{osp.splitext(osp.basename(classifier))[0]}/epoch_300.pth '
        f'{checkpoint}; the backbone weights are read with prefix '
        f'"backbone."), name another one (--cfg-options pretrained=PATH), or '
        f'train from scratch (--cfg-options pretrained=None; norm_eval=False, '
        f'accuracy will be far lower).')


def _dataset_paths(dataset: dict) -> list:
    """(config key, path, kind) of what a dataset config reads from disk;
    kind is 'dir' or 'file'."""
    root = dataset.get('data_root') or ''
    paths = [('data_root', root, 'dir')] if root else []
    if dataset.get('ann_file'):
        paths.append(('ann_file', osp.join(root, dataset.ann_file), 'file'))
    prefix = dataset.get('data_prefix')
    prefixes = prefix.items() if isinstance(
        prefix, dict) else [('', prefix)] if isinstance(prefix, str) else []
    paths += [(f'data_prefix{"." + name if name else ""}',
               osp.join(root, path), 'dir') for name, path in prefixes if path]
    return paths


def innermost_datasets(cfg: Config, splits: Iterable[str]):
    """(config key, dataset config) of each split's dataset, through
    wrappers (RepeatDataset, ConcatDataset, ...)."""
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        todo = [(f'{split}_dataloader.dataset', loader.dataset)]
        while todo:
            key, dataset = todo.pop()
            if 'dataset' in dataset:
                todo.append((f'{key}.dataset', dataset.dataset))
            elif 'datasets' in dataset:
                todo += [(f'{key}.datasets.{i}', d)
                         for i, d in enumerate(dataset.datasets)]
            else:
                yield key, dataset


def check_datasets(cfg: Config, splits: Iterable[str]) -> None:
    """Stops before any work when a dataset folder or annotation file of
    ``splits`` (e.g. ``('train', 'val')``) is missing or of the wrong kind,
    naming the config key to change. Relative paths are read from the
    working directory."""
    for key, dataset in innermost_datasets(cfg, splits):
        for name, path, kind in _dataset_paths(dataset):
            if '://' in path:
                continue
            exists = osp.isdir(path) if kind == 'dir' else osp.isfile(path)
            if exists:
                continue
            problem = ('is a file, not a folder' if kind == 'dir'
                       and osp.exists(path) else 'is a folder, not a file'
                       if osp.exists(path) else 'does not exist')
            raise ConfigError(
                f'{key}.{name}: {path!r} {problem} (relative paths start '
                f'from the working directory, {os.getcwd()}). Run from the '
                f'directory that holds the data, or set it: --cfg-options '
                f'{key}.{name.split(".")[0]}=...')


def missing_protections(cfg: Config) -> List[str]:
    """The hooks of our bases (``configs/_base_/run_protections.py``) that a
    config does not declare."""
    protections = Config.fromfile(PROTECTIONS_FILE).run_protections
    hooks = cfg.get('default_hooks') or {}
    return [
        name for name, hook in protections.items()
        if (hooks.get(name) or {}).get('type') != hook.type
    ]


# --- what follows the machine -----------------------------------------------


def _replace_sync_bn(node) -> int:
    """Turns every ``SyncBN`` norm config into ``BN``; counts them."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        count += sum(_replace_sync_bn(value) for value in node)
    return count


def adapt_to_machine(cfg: Config) -> None:
    """Makes a config written for CUDA machines run on CPU processes, and
    says so in one line.

    Without CUDA: the distributed backend becomes ``gloo``; distributed
    runs wrap the model in :class:`CPUDistributedDataParallel`; ``SyncBN``
    (which needs CUDA) becomes ``BN``. With CUDA nothing changes.
    """
    if torch.cuda.is_available():
        return
    changes = []
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if cfg.launcher != 'none' and dist_cfg.get('backend') != 'gloo':
        changes.append('the distributed backend is gloo')
    dist_cfg.backend = 'gloo'
    if cfg.launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
        # mmengine's defaults for its own DDP wrapper, as on GPUs.
        cfg.model_wrapper_cfg = dict(
            type='mmdualtoken.CPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        changes.append('DDP runs on CPU processes')
    model = copy.deepcopy(cfg.model)
    if _replace_sync_bn(model):
        cfg.model = model
        changes.append('SyncBN layers run as BN')
    if changes:
        say(f'No CUDA device: {", ".join(changes)}.')
