"""Optimizer settings changed for a resumed run are applied, not ignored.

mmengine restores a resumed run's optimizer and parameter schedulers from
its checkpoint, so a learning rate or weight decay changed in the config
(``--resume --cfg-options optim_wrapper.optimizer.lr=1e-4``, the natural
next step after a divergence) is silently replaced by the checkpoint's.
"""
import logging
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmdualtoken.errors import ConfigError
from mmdualtoken.registry import HOOKS

# What a parameter scheduler holds in absolute learning-rate units (the
# rest, such as LinearLR's factors, is relative and needs no change).
SCHEDULER_LR_STATE = ('base_values', '_last_value')
SCHEDULER_LR_FLOORS = ('eta_min', 'end_value')


@HOOKS.register_module()
class OptimizerOverrideHook(Hook):
    """Applies the config's values of some optimizer settings to a resumed
    run, in place of the checkpoint's.

    As the checkpoint is loaded, each of its optimizer's parameter groups
    takes the value of ``keys`` that the config's optimizer gives the same
    group. A new ``lr`` rescales the schedules too: every parameter
    scheduler's base values, its current value and its absolute floor
    (``eta_min``) are multiplied by new / old base lr, so the run goes on
    along the same curve at the new scale. A change that cannot be applied
    honestly (groups that do not match, one lr scaled by several factors)
    stops the run before training.

    Args:
        keys (Sequence[str]): Names of ``optim_wrapper.optimizer`` settings
            (``lr``, ``weight_decay``, ``betas``...). ``tools/train.py``
            adds this hook by itself for those given with ``--resume`` in
            ``--cfg-options``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, keys: Sequence[str]):
        if 'type' in keys:
            raise ConfigError(
                'optim_wrapper.optimizer.type cannot change on --resume: the '
                'checkpoint holds the state of another optimizer. Start a '
                'new run from its weights instead (load_from=CKPT).')
        self.keys = list(keys)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('optimizer')
        if not runner.cfg.get('resume') or not isinstance(state, dict):
            return
        if 'param_groups' not in state:
            raise ConfigError(
                f'{self.keys} given on --resume: the checkpoint holds the '
                f'state of several optimizers, which this hook does not '
                f'change. Set them in the config of a new run instead.')
        saved, current = state[
            'param_groups'], runner.optim_wrapper.param_groups
        if len(saved) != len(current):
            raise ConfigError(
                f'{self.keys} given on --resume: the checkpoint\'s optimizer '
                f'has {len(saved)} parameter groups and this config\'s '
                f'{len(current)} (paramwise_cfg changed?). Resume with the '
                f'config of the run.')
        changes = []
        for key in self.keys:
            if key == 'lr':
                changes.append(self._rescale_lr(checkpoint, saved, current))
            else:
                old = saved[0].get(key)
                for group, new in zip(saved, current):
                    group[key] = new[key]
                changes.append(f'{key} {old} -> {current[0][key]}')
        print_log(
            f'Resumed with the config\'s optimizer settings, not the '
            f'checkpoint\'s: {"; ".join(changes)}.', 'current',
            logging.WARNING)

    @staticmethod
    def _rescale_lr(checkpoint: dict, saved: list, current: list) -> str:
        old = [group.get('initial_lr', group['lr']) for group in saved]
        new = [group.get('initial_lr', group['lr']) for group in current]
        factors = {n / o for n, o in zip(new, old) if o}
        if len(factors) > 1 or any(n and not o for n, o in zip(new, old)):
            raise ConfigError(
                'optim_wrapper.optimizer.lr given on --resume changes the '
                'learning rates of the parameter groups by different factors '
                '(paramwise_cfg changed?): it cannot be applied to the '
                'checkpoint\'s schedules. Resume with the config of the run '
                'and only a new lr.')
        factor = factors.pop() if factors else 1.
        for group, base in zip(saved, new):
            group['lr'] *= factor
            group['initial_lr'] = base
        schedulers = checkpoint.get('param_schedulers') or []
        for scheduler in schedulers if isinstance(schedulers, list) else []:
            if scheduler.get('param_name', 'lr') != 'lr':
                continue
            for name in SCHEDULER_LR_STATE:
                if isinstance(scheduler.get(name), list):
                    scheduler[name] = [v * factor for v in scheduler[name]]
            for name in SCHEDULER_LR_FLOORS:
                if isinstance(scheduler.get(name), (int, float)):
                    scheduler[name] *= factor
        return (f'lr {old[0]:.3g} -> {new[0]:.3g} (the learning rates and '
                f'their schedules scaled by {factor:.3g})')
