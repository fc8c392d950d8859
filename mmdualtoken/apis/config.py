"""Reading a config of ours, for the tools and :func:`init_model` alike:
syntax errors named by file and line, and the ``pretrained`` option that
reaches the backbone."""
import ast
import logging
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log

from mmdualtoken.errors import ConfigError


def say(message: str) -> None:
    """One line to the current logger (the console before a run starts)."""
    print_log(message, 'current', logging.WARNING)


def read_config(path: str) -> Config:
    """``Config.fromfile``, with a missing file and syntax errors named by
    file and line (mmengine reports them as in ``<unknown>``)."""
    if not osp.isfile(path):
        raise ConfigError(
            f'Config {path!r} does not exist; pass a file under configs/.')
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
        raise ConfigError(f'Syntax error in {where}: {error.msg}: '
                          f'{(error.text or "").strip()}') from None


def backbone_checkpoint(cfg: Config) -> Optional[dict]:
    """The backbone's ``Pretrained`` init config, if it has one."""
    init_cfg = cfg.model.get('backbone', {}).get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        return init_cfg
    return None


def set_pretrained(cfg: Config, checkpoint: Optional[str]) -> None:
    """Applies ``--cfg-options pretrained=...`` to the backbone.

    Configs name the ImageNet checkpoint once, as the top-level variable
    ``pretrained``, which mmengine substitutes when it reads the file; a
    later override of the variable alone would change nothing. ``None``
    trains the backbone from scratch, with its BatchNorm statistics learnt
    (``norm_eval=False``) since there are no pretrained ones to keep.
    """
    init_cfg = backbone_checkpoint(cfg)
    if init_cfg is None:
        return
    if checkpoint is not None:
        init_cfg.checkpoint = checkpoint
        return
    cfg.model.backbone.init_cfg = None
    if 'norm_eval' in cfg.model.backbone:
        cfg.model.backbone.norm_eval = False
    say('pretrained=None: the backbone trains from scratch (norm_eval=False).'
        ' Expect far lower accuracy than from the ImageNet checkpoint.')
