"""Config handling shared by ``tools/train.py`` and ``tools/test.py``.

The config's ``default_scope`` (``mmpretrain``, ``mmdet`` or ``mmseg``)
decides which task library runs; everything here works for all three.
"""
import argparse
import ast
import difflib
import logging
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import MODELS, RUNNERS, init_default_scope
from mmengine.runner import Runner
from torch import nn

TASK_SCOPES = ('mmpretrain', 'mmdet', 'mmseg')


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Reads a config, applies overrides and picks the work dir.

    The work dir is, in order: ``work_dir``, the config's ``work_dir``, or
    ``./work_dirs/<config name>`` as in the OpenMMLab tools.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Config {path!r} does not exist; pass a file under configs/.')
    cfg = _read_config(path)
    if cfg_options:
        _check_option_keys(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
        if 'pretrained' in cfg_options:
            _set_pretrained(cfg, cfg_options['pretrained'])
    scope = cfg.get('default_scope')
    if scope not in TASK_SCOPES:
        raise ValueError(f'{path}: default_scope must be one of '
                         f'{TASK_SCOPES} (inherit a task library _base_), '
                         f'got {scope!r}.')
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    adapt_to_device(cfg)
    return cfg


def _read_config(path: str) -> Config:
    """``Config.fromfile``, with syntax errors named by file and line
    (mmengine reports them as in ``<unknown>``)."""
    try:
        return Config.fromfile(path)
    except SyntaxError as error:
        try:
            with open(path) as f:
                ast.parse(f.read(), path)
        except SyntaxError as located:
            error = located
            where = f'{path}, line {located.lineno}'
        else:
            where = f'a _base_ file of {path}, line {error.lineno}'
        raise SystemExit(f'Syntax error in {where}: {error.msg}\n'
                         f'    {(error.text or "").strip()}') from None


def _check_option_keys(cfg: Config, options: dict) -> None:
    """Stops on a ``--cfg-options`` key whose parent is not in the config
    (a mistyped section would otherwise be added and silently ignored);
    a new leaf in an existing section is allowed, its builder checks it."""
    for key in options:
        node, parts = cfg.to_dict(), key.split(".")
        for depth, part in enumerate(parts[:-1]):
            if isinstance(node,
                          list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                known = list(node) if isinstance(node, dict) else []
                close = difflib.get_close_matches(part, known, n=1)
                hint = f'; did you mean {close[0]!r}?' if close else '.'
                raise SystemExit(f'--cfg-options {key}: the config has no '
                                 f'{".".join(parts[:depth + 1])!r}{hint}')


def _backbone_checkpoint(cfg: Config) -> Optional[dict]:
    """The backbone's ``Pretrained`` init config, if it has one."""
    init_cfg = cfg.model.get('backbone', {}).get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        return init_cfg
    return None


def _set_pretrained(cfg: Config, checkpoint: Optional[str]) -> None:
    """Applies ``--cfg-options pretrained=...`` to the backbone.

    Configs name the ImageNet checkpoint once, as the top-level variable
    ``pretrained``, which mmengine substitutes when it reads the file; a
    later override of the variable alone would change nothing. ``None``
    trains the backbone from scratch, with its BatchNorm statistics learnt
    (``norm_eval=False``) since there are no pretrained ones to keep.
    """
    init_cfg = _backbone_checkpoint(cfg)
    if init_cfg is None:
        return
    if checkpoint is not None:
        init_cfg.checkpoint = checkpoint
        return
    cfg.model.backbone.init_cfg = None
    if 'norm_eval' in cfg.model.backbone:
        cfg.model.backbone.norm_eval = False
    print_log(
        'pretrained=None: the backbone trains from scratch (norm_eval=False).'
        ' Expect far lower accuracy than from the ImageNet checkpoint.',
        'current', logging.WARNING)


def check_pretrained(cfg: Config, config_path: str) -> None:
    """Stops before any work when the backbone's ImageNet checkpoint is a
    local file that does not exist, and says the ways forward."""
    init_cfg = _backbone_checkpoint(cfg)
    if init_cfg is None:
        return
    checkpoint = init_cfg.get('checkpoint')
    if not checkpoint or '://' in checkpoint or osp.isfile(checkpoint):
        return
    arch = cfg.model.backbone.get('arch', 's')
    classifier = f'configs/classification/dualtoken-vit-{arch}_8xb128_in1k.py'
    raise SystemExit(
        f'{config_path}: the backbone\'s ImageNet checkpoint {checkpoint!r} '
        f'(config variable `pretrained`) does not exist. Either\n'
        f'  - train the ImageNet classifier and put its checkpoint there '
        f'(the backbone weights are read with prefix "backbone."):\n'
        f'      tools/dist_train.sh {classifier} 8\n'
        f'      cp work_dirs/{osp.splitext(osp.basename(classifier))[0]}/'
        f'epoch_300.pth {checkpoint}\n'
        f'  - or name another checkpoint: --cfg-options pretrained=PATH\n'
        f'  - or train from scratch: --cfg-options pretrained=None '
        f'(norm_eval=False; accuracy will be far lower).')


def _dataset_paths(dataset: dict) -> list:
    """(config key, path) of what a dataset config reads from disk."""
    root = dataset.get('data_root') or ''
    paths = [('data_root', root)] if root else []
    if dataset.get('ann_file'):
        paths.append(('ann_file', osp.join(root, dataset.ann_file)))
    prefix = dataset.get('data_prefix')
    prefixes = prefix.items() if isinstance(
        prefix, dict) else [('', prefix)] if isinstance(prefix, str) else []
    paths += [(f'data_prefix{"." + name if name else ""}',
               osp.join(root, path)) for name, path in prefixes if path]
    return paths


def check_datasets(cfg: Config, splits) -> None:
    """Stops before any work when a dataset directory or annotation file
    of ``splits`` (e.g. ``('train', 'val')``) is missing, naming the config
    key to change. Relative paths are read from the working directory."""
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        dataset, key = loader.dataset, f'{split}_dataloader.dataset'
        while 'dataset' in dataset:  # RepeatDataset and other wrappers
            dataset, key = dataset.dataset, f'{key}.dataset'
        for name, path in _dataset_paths(dataset):
            if '://' not in path and not osp.exists(path):
                raise SystemExit(
                    f'{key}.{name}: {path!r} does not exist (relative '
                    f'paths start from the working directory, '
                    f'{os.getcwd()}). Run from the directory that holds '
                    f'the data, or set it: --cfg-options '
                    f'{key}.{name.split(".")[0]}=...')


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


def adapt_to_device(cfg: Config) -> None:
    """Makes a config written for CUDA machines run on CPU processes.

    Without CUDA: the distributed backend becomes ``gloo``; distributed
    runs wrap the model in :class:`CPUDistributedDataParallel`; ``SyncBN``
    (which needs CUDA) becomes ``BN``. With CUDA nothing changes.
    """
    if torch.cuda.is_available():
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
        # mmengine's defaults for its own DDP wrapper, as on GPUs.
        cfg.model_wrapper_cfg = dict(
            type='mmdualtoken.CPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    if _replace_sync_bn(cfg.model):
        print_log('No CUDA device: SyncBN layers run as BN.', 'current')


def build_runner(cfg: Config) -> Runner:
    """Builds the config's runner, first joining a ``gloo`` process group
    for a CPU run under torchrun: mmengine's own ``init_dist('pytorch')``
    calls ``torch.cuda.set_device`` and so fails without CUDA, and the
    runner skips it when a group exists."""
    if (cfg.launcher == 'pytorch' and not torch.cuda.is_available()
            and not torch_dist.is_initialized()):
        torch_dist.init_process_group(backend='gloo')
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def build_model(path: str,
                cfg_options: Optional[dict] = None,
                init_weights: bool = True) -> nn.Module:
    """Builds the model of an mmpretrain, mmdet or mmseg config, in the
    config's default scope; ``init_weights`` runs its initialization
    (which loads a ``Pretrained`` checkpoint the config names). As in the
    tools, ``cfg_options={'pretrained': PATH or None}`` reaches the
    backbone."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        if 'pretrained' in cfg_options:
            _set_pretrained(cfg, cfg_options['pretrained'])
    init_default_scope(cfg.get('default_scope', 'mmdualtoken'))
    model = MODELS.build(cfg.model)
    if init_weights:
        model.init_weights()
    return model


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments train.py and test.py share with the OpenMMLab
    tools: ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def set_local_rank(local_rank: int) -> None:
    """Exports LOCAL_RANK as the OpenMMLab tools do for old launchers."""
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
