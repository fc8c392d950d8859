"""A diverging run stops before it saves bad weights.

A loss that turns NaN or inf trains on silently in mmengine: the run goes
on saving NaN weights over good ones until ``max_keep_ckpts`` has removed
every good checkpoint. mmdet's ``CheckInvalidLossHook`` stops on a bad loss
only every 50 iterations, after such a save can have happened.
"""
import math
import os.path as osp

import torch
from mmengine.hooks import Hook

from mmdualtoken.errors import TrainingDiverged
from mmdualtoken.registry import HOOKS


@HOOKS.register_module()
class DivergenceHook(Hook):
    """Stops training at the first non-finite loss or gradient norm, with
    one message: the iteration, the loss terms that went bad, the learning
    rate and what to try. No checkpoint of the bad state is written (a
    save of non-finite weights is refused too), so every good checkpoint
    stays, whatever ``max_keep_ckpts`` says.

    The gradient norm is the one the optimizer wrapper logs when it clips
    gradients (``optim_wrapper.clip_grad``); with ``AmpOptimWrapper`` it is
    left to the loss scaler, which skips such steps by design.

    Turn it off with ``default_hooks.divergence=None``.
    """

    priority = 'ABOVE_NORMAL'  # before the logger and the checkpoint hook

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        losses = {
            name: float(torch.as_tensor(value).detach())
            for name, value in (outputs or {}).items() if 'loss' in name
        }
        bad = {n: v for n, v in losses.items() if not math.isfinite(v)}
        wrapper = runner.optim_wrapper
        # Logged by the wrapper at each step when it clips: a stale value
        # was finite, or training would have stopped then.
        grad_norm = runner.message_hub.log_scalars.get('train/grad_norm')
        if (grad_norm is not None
                and getattr(wrapper, 'clip_grad_kwargs', None)
                and type(wrapper).__name__ != 'AmpOptimWrapper'
                and not math.isfinite(grad_norm.current())):
            bad['grad_norm'] = grad_norm.current()
        if bad:
            raise self._diverged(runner, runner.iter + 1, bad)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', {})
        bad = [
            name for name, value in state.items() if
            torch.is_floating_point(value) and not torch.isfinite(value).all()
        ]
        if bad:
            raise self._diverged(
                runner, runner.iter,
                {f'weight {name}': float('nan')
                 for name in bad[:3]})

    @staticmethod
    def _diverged(runner, iteration: int, bad: dict) -> TrainingDiverged:
        terms = ', '.join(f'{name}={value}' for name, value in bad.items())
        lr = [group[0] for group in runner.optim_wrapper.get_lr().values()][0]
        # The checkpoint hook's record of this run's (or the run it resumed
        # from) newest save: not a file another run left in the work dir.
        last = runner.message_hub.get_info('last_ckpt')
        if last and osp.isfile(last):
            kept = (f'the last good checkpoint, {last}, is kept. Continue '
                    f'from it with a lower lr: --resume --cfg-options '
                    f'optim_wrapper.optimizer.lr={lr / 10:.3g}')
        else:
            kept = ('no checkpoint had been written yet. Try a lower lr '
                    '(optim_wrapper.optimizer.lr)')
        return TrainingDiverged(
            f'Training diverged at iteration {iteration} (epoch '
            f'{runner.epoch + 1}): {terms}, lr {lr:.3g}. No checkpoint of '
            f'this state was written; {kept}, gradient clipping '
            f'(optim_wrapper.clip_grad=dict(max_norm=1.0)) or training '
            f'without --amp. To train on regardless: '
            f'default_hooks.divergence=None.')
