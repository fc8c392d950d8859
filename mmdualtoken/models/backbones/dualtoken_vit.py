import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule, ModuleList
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdualtoken.errors import ConfigError
from mmdualtoken.registry import MODELS
from ..layers import DualTokenBlock
from ..layers.attention import (resize_token_grid, to_channels_first,
                                to_channels_last)
from ..layers.execution import apply_by_images, conv_norm
from ..layers.norms import build_token_norm, fold_norm


class ConvNormAct(nn.Sequential):
    """3x3 conv (no bias), norm and activation, as ``nn.Sequential`` (so the
    parameter names are ``0.weight``, ``1.weight``...)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 groups: int, norm_cfg: dict, act_cfg: dict):
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                3,
                stride=stride,
                padding=1,
                groups=groups,
                bias=False),
            build_norm_layer(norm_cfg, out_channels)[1],
            build_activation_layer(act_cfg))

    def forward(self, x: Tensor) -> Tensor:
        conv, norm, act = self
        return act(conv_norm(conv, norm, x))


class ConvStem(BaseModule):
    """LightViT's stride-8 convolutional stem.

    3x3 conv s2 (3 -> C/2), two 3x3 depthwise convs, a 3x3 depthwise conv s2
    (each with BN + GELU by default), a 3x3 conv s2 (C/2 -> C), then
    LayerNorm.

    Args:
        in_channels (int): Input image channels.
        embed_dims (int): Output channels C.
        norm_cfg (dict): Norm after each 3x3 conv, e.g. ``dict(type='BN')``
            or ``dict(type='SyncBN')``.
        act_cfg (dict): Activation after each norm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 norm_cfg: dict,
                 act_cfg: dict,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        stem_dims = embed_dims // 2
        self.convs = nn.Sequential(*[
            ConvNormAct(in_dims, stem_dims, stride, groups, norm_cfg, act_cfg)
            for in_dims, stride, groups in [(
                in_channels, 2,
                1), (stem_dims, 1,
                     stem_dims), (stem_dims, 1,
                                  stem_dims), (stem_dims, 2, stem_dims)]
        ])
        self.proj = nn.Conv2d(stem_dims, embed_dims, 3, stride=2, padding=1)
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, 3, H, W) -> (B, ceil(H / 8), ceil(W / 8), C)."""
        # Channels-last memory: depthwise convs run 2-3x faster on it (CPU),
        # and the permute to (B, H, W, C) below is then free.
        x = x.contiguous(memory_format=torch.channels_last)
        # The widest map is the first conv's, at stride 2.
        height, width = ((size + 1) // 2 for size in x.shape[-2:])
        x = apply_by_images(
            self.convs, x,
            self.convs[0][0].out_channels * height * width * x.element_size())
        return self.norm(to_channels_last(self.proj(x)))


class MergePatch(BaseModule):
    """LightViT's residual merge patch between stages.

    Image tokens: 2x2 space-to-depth + LayerNorm + Linear (no bias), plus a
    residual of 2x2 max-pooling + Linear (no bias). Odd sizes are padded at
    the bottom / right, so the output is ceil(H / 2) x ceil(W / 2). Global
    tokens: LayerNorm + Linear.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        norm_cfg (dict, optional): Its two norms (:func:`build_token_norm`).
            Defaults to LayerNorm.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.norm = build_token_norm(norm_cfg, 4 * in_channels)
        self.reduction = nn.Linear(4 * in_channels, out_channels, bias=False)
        self.residual = nn.Linear(in_channels, out_channels, bias=False)
        self.token_norm = build_token_norm(norm_cfg, in_channels)
        self.token_proj = nn.Linear(in_channels, out_channels)

    def forward(self, x: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """x: (B, H, W, C) -> (B, ceil(H / 2), ceil(W / 2), C_out)."""
        height, width = x.shape[1:3]
        residual = to_channels_last(
            F.max_pool2d(to_channels_first(x), 2, ceil_mode=True))
        x = F.pad(x, (0, 0, 0, width % 2, 0, height % 2))
        # Space-to-depth: (B, H, W, C) -> (B, H / 2, W / 2, 4C).
        x = torch.cat([
            x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2,
                                                                    1::2]
        ],
                      dim=-1)
        x = self.reduction(self.norm(x)) + self.residual(residual)
        return x, self.token_proj(self.token_norm(tokens))

    def switch_to_deploy(self) -> None:
        """Folds BatchNorms into the projections after them
        (:func:`fold_norm`; the reduction gains a bias)."""
        self.norm = fold_norm(self.norm, self.reduction)
        self.token_norm = fold_norm(self.token_norm, self.token_proj)


@MODELS.register_module()
class DualTokenViT(BaseModule):
    """DualToken-ViT: position-aware efficient ViT with dual token fusion.

    A PyTorch implementation of `DualToken-ViT: Position-aware Efficient
    Vision Transformer with Dual Token Fusion
    <https://arxiv.org/abs/2309.12424>`_. It keeps LightViT's stem, three
    stages at strides 8 / 16 / 32 and merge patches, and builds each stage
    from :class:`DualTokenBlock`: a convolutional local branch fused by
    addition with a global branch that attends to position-aware global
    tokens, a grid of learnable tokens carried through all blocks.

    The paper's per-variant table could not be recovered: the widths, depths
    and FFN ratios of the arch zoo are ours, chosen so that the ImageNet
    classifiers match the paper's FLOPs at 224x224 (0.5 G for T, 1.0 G for
    S, attention included). S keeps LightViT-T's widths and heads; T is
    narrower (head dim 24).

    Args:
        arch (str | dict): A key of ``arch_zoo`` (``'t'``, ``'s'``,
            ``'t-mix'``, ``'s-mix'``) or a dict with ``embed_dims``,
            ``depths``, ``num_heads``, ``ffn_ratios`` (one per stage) and
            ``token_mixing`` (bool). Defaults to ``'s'``.
        in_channels (int): Input image channels. Defaults to 3.
        global_token_grid (Sequence[int]): Grid of global tokens (gh, gw).
            Defaults to (7, 7), the paper's best. Other grids are
            bilinearly resized to each block's downsampled map and back
            (the interpolation the paper's 3x3 / 14x14 ablation implies). A
            checkpoint saved with another grid loads with its tokens resized
            (logged).
        global_token_fusion (str): ``'position_aware'`` (the paper's
            weighted sum of the downsampled map and the global tokens) or
            ``'attention'`` (the "normal" global tokens of its ablation,
            fused by attention as in LightViT).
        local_branch (str): ``'conv'`` (the Conv Encoder) or
            ``'window_attention'`` (the ablation: 7x7 window attention).
        downsample (str): ``'stepwise'`` (the paper's) or ``'one_step'``
            (the ablation: one average pooling to the token stride).
        step_conv (str): The light convolution of each downsampling step:
            ``'pointwise'`` (ours, see the README's calibration),
            ``'depthwise'`` or ``'full'``.
        window_size (int): Window of ``local_branch='window_attention'``.
        token_mlp_ratio (float): Hidden width of the token-mixing MLP of the
            mix variants, relative to the number of global tokens.
        conv_mlp_ratio (float): MLP ratio of the Conv Encoder (ConvNeXt's 4).
        fusion_weight_init (float): Initial per-channel weights of the
            weighted sum of aggregated map and global tokens.
        drop_path_rate (float): Stochastic depth rate, increasing linearly
            over the blocks up to this value. Defaults to 0.
        norm_cfg (dict, optional): Norm of the stem's convolutions, e.g.
            ``dict(type='SyncBN')``. Defaults to BN.
        block_norm_cfg (dict, optional): Every norm of the blocks and merge
            patches (six per block). Defaults to ``dict(type='LN')``, the
            paper's LayerNorm. ``dict(type='BN')`` or ``'SyncBN'`` is our
            speed design, not the paper's model: BatchNorms over the
            channels of all tokens, which :meth:`switch_to_deploy` folds
            into the layers that read them, so the deployed model computes
            no norm there (see docs/speed.md). The stem's last norm and the
            output norms stay LayerNorms.
        act_cfg (dict, optional): Activation of every layer. Defaults to
            GELU.
        out_indices (int | Sequence[int]): Stages (0, 1, 2; negatives count
            from the end) whose LayerNorm-ed feature maps are returned, in
            stage order. Defaults to -1.
        frozen_stages (int): Freezes (no gradient, eval mode) the stem and
            global tokens when >= 0 and also the first ``frozen_stages``
            stages. -1 freezes nothing. Defaults to -1.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        with_cp (bool): Use gradient checkpointing on each block, trading
            compute for memory. Defaults to False.
        max_pretrained_mismatch (float, optional): With a ``Pretrained``
            ``init_cfg``, the largest fraction of this backbone's weights
            that may be missing from the checkpoint or differ in shape;
            above it, initialization stops and names the likely cause
            (another variant, another task, a wrong prefix). None loads
            whatever fits, as mmengine does. Defaults to 0.1.
        init_cfg (dict | list, optional): Initialization config, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.

    Example:
        >>> import torch
        >>> from mmdualtoken.models import DualTokenViT
        >>> model = DualTokenViT(arch='t', out_indices=(0, 1, 2))
        >>> outs = model(torch.rand(1, 3, 224, 224))
        >>> [tuple(out.shape) for out in outs]
        [(1, 48, 28, 28), (1, 96, 14, 14), (1, 192, 7, 7)]
        >>> outs = model(torch.rand(1, 3, 333, 501))
        >>> [tuple(out.shape) for out in outs]
        [(1, 48, 42, 63), (1, 96, 21, 32), (1, 192, 11, 16)]
    """

    arch_zoo: Dict[str, dict] = {
        **dict.fromkeys(
            ['t', 'tiny'], {
                'embed_dims': [48, 96, 192],
                'depths': [2, 3, 4],
                'num_heads': [2, 4, 8],
                'ffn_ratios': [4, 4, 4],
                'token_mixing': False,
            }),
        **dict.fromkeys(
            ['s', 'small'], {
                'embed_dims': [64, 128, 256],
                'depths': [2, 4, 4],
                'num_heads': [2, 4, 8],
                'ffn_ratios': [8, 4, 4],
                'token_mixing': False,
            }),
    }
    arch_zoo['t-mix'] = {**arch_zoo['t'], 'token_mixing': True}
    arch_zoo['s-mix'] = {**arch_zoo['s'], 'token_mixing': True}

    num_stages = 3
    strides = (8, 16, 32)
    min_input_size = 32

    def __init__(self,
                 arch: Union[str, dict] = 's',
                 in_channels: int = 3,
                 global_token_grid: Sequence[int] = (7, 7),
                 global_token_fusion: str = 'position_aware',
                 local_branch: str = 'conv',
                 downsample: str = 'stepwise',
                 step_conv: str = 'pointwise',
                 window_size: int = 7,
                 token_mlp_ratio: float = 4.,
                 conv_mlp_ratio: float = 4.,
                 fusion_weight_init: float = 0.5,
                 drop_path_rate: float = 0.,
                 norm_cfg: Optional[dict] = None,
                 block_norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 max_pretrained_mismatch: Optional[float] = 0.1,
                 init_cfg=None):
        if init_cfg is None:
            init_cfg = [
                dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
                dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
            ]
        super().__init__(init_cfg=init_cfg)
        self.arch_settings = self._parse_arch(arch)
        embed_dims = self.arch_settings['embed_dims']
        self.embed_dims = list(embed_dims)
        self.in_channels = in_channels
        self.out_indices = self._parse_out_indices(out_indices)
        if not -1 <= frozen_stages <= self.num_stages:
            raise ConfigError(
                f'frozen_stages must be in [-1, {self.num_stages}]'
                f' (-1 freezes nothing), got {frozen_stages}.')
        self.frozen_stages = frozen_stages
        if not 0 <= drop_path_rate < 1:
            raise ConfigError(
                f'drop_path_rate must be in [0, 1) (the chance to drop a '
                f'block in the deepest layer), got {drop_path_rate}.')
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.max_pretrained_mismatch = max_pretrained_mismatch

        act_cfg = act_cfg or dict(type='GELU')
        self.stem = ConvStem(in_channels, embed_dims[0], norm_cfg
                             or dict(type='BN'), act_cfg)
        if len(global_token_grid) != 2 or min(global_token_grid) < 1:
            raise ConfigError(f'global_token_grid must be (rows, cols) >= 1, '
                              f'got {global_token_grid!r}.')
        self.global_token_grid = tuple(global_token_grid)
        self.global_tokens = nn.Parameter(
            torch.zeros(1, *self.global_token_grid, embed_dims[0]))
        trunc_normal_(self.global_tokens, std=.02)

        depths = self.arch_settings['depths']
        drop_path_rates = torch.linspace(0, drop_path_rate, sum(depths))
        self.merge_patches = ModuleList()
        self.stages = ModuleList()
        block_index = 0
        for i, (dims, depth) in enumerate(zip(embed_dims, depths)):
            if i > 0:
                self.merge_patches.append(
                    MergePatch(embed_dims[i - 1], dims, block_norm_cfg))
            # Step-wise reduction from this stage's stride to the last one.
            steps = int(math.log2(self.strides[-1] // self.strides[i]))
            self.stages.append(
                ModuleList([
                    DualTokenBlock(
                        dims,
                        self.arch_settings['num_heads'][i],
                        self.arch_settings['ffn_ratios'][i],
                        downsample_steps=steps,
                        num_global_tokens=math.prod(self.global_token_grid),
                        token_mixing=self.arch_settings['token_mixing'],
                        token_mlp_ratio=token_mlp_ratio,
                        conv_mlp_ratio=conv_mlp_ratio,
                        fusion_weight_init=fusion_weight_init,
                        local_branch=local_branch,
                        global_token_fusion=global_token_fusion,
                        downsample=downsample,
                        step_conv=step_conv,
                        window_size=window_size,
                        drop_path=float(drop_path_rates[block_index + j]),
                        act_cfg=act_cfg,
                        norm_cfg=block_norm_cfg) for j in range(depth)
                ]))
            block_index += depth
        for i in self.out_indices:
            self.add_module(f'norm{i}', nn.LayerNorm(embed_dims[i]))
        self._freeze_stages()
        self._register_load_state_dict_pre_hook(self._resize_global_tokens)

    def init_weights(self) -> None:
        """Initializes the weights; a ``Pretrained`` checkpoint is first
        checked against ``max_pretrained_mismatch``."""
        init_cfg = self.init_cfg
        if (isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'
                and self.max_pretrained_mismatch is not None):
            self._check_pretrained(init_cfg['checkpoint'],
                                   init_cfg.get('prefix'))
        super().init_weights()

    def _check_pretrained(self, checkpoint: str, prefix: Optional[str]):
        from mmengine.runner import CheckpointLoader

        from mmdualtoken.engine.checkpoint import weights_of
        state = weights_of(
            CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu'),
            prefix or '')
        expected = self.state_dict()
        fitting = [
            k for k, v in expected.items()
            if k in state and state[k].shape == v.shape
        ]
        unfit = 1 - len(fitting) / len(expected)
        if unfit <= self.max_pretrained_mismatch:
            return
        tokens = state.get('global_tokens')
        if not state:
            cause = (f'no key starts with the prefix {prefix!r}: set '
                     f'init_cfg.prefix (\'backbone.\' for a classifier or '
                     f'detector checkpoint, None for a bare backbone)')
        elif tokens is not None and tokens.shape[-1] != self.embed_dims[0]:
            variants = [
                name for name in ('t', 's')
                if self.arch_zoo[name]['embed_dims'][0] == tokens.shape[-1]
            ]
            cause = (f'it holds a DualToken-ViT of width {tokens.shape[-1]}'
                     f' (arch {variants[0]!r} or a mix variant) '
                     if variants else f'it holds a DualToken-ViT of width '
                     f'{tokens.shape[-1]} ') + (
                         f'and this backbone has width {self.embed_dims[0]}:'
                         f' use the checkpoint of this config\'s arch')
        else:
            cause = ('it does not look like a DualToken-ViT checkpoint of '
                     'this arch (another model, or another task\'s keys)')
        raise ConfigError(
            f'Pretrained {checkpoint}: {unfit:.0%} of the backbone\'s '
            f'weights are missing or of another shape (more than '
            f'max_pretrained_mismatch={self.max_pretrained_mismatch}); '
            f'{cause}. Set max_pretrained_mismatch=None to load what fits.')

    def _resize_global_tokens(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Resizes the global tokens of a checkpoint saved with another
        ``global_token_grid`` (bilinear), as mmpretrain's ViTs resize their
        position embeddings."""
        name = prefix + 'global_tokens'
        tokens = state_dict.get(name)
        if (tokens is None or tokens.dim() != 4
                or tokens.shape[-1] != self.global_tokens.shape[-1]
                or tuple(tokens.shape[1:3]) == self.global_token_grid):
            return
        state_dict[name] = resize_token_grid(
            tokens.float(), self.global_token_grid).to(tokens.dtype)
        print_log(
            f'Resized {name} from a {tokens.shape[1]}x{tokens.shape[2]} grid '
            f'to {self.global_token_grid[0]}x{self.global_token_grid[1]}.',
            'current')

    def get_layer_depth(self, param_name: str, prefix: str = ''):
        """The layer depth of a parameter, for mmpretrain's layer-wise
        learning-rate decay (``LearningRateDecayOptimWrapperConstructor``).

        The stem and the global tokens are layer 0, block ``k`` (counted
        over all stages) is layer ``k + 1``, a merge patch shares the depth
        of the block after it, and the output norms and everything outside
        the backbone (neck, head) are the last layer.

        Args:
            param_name (str): The parameter's name.
            prefix (str): The backbone's prefix in ``param_name``.

        Returns:
            tuple[int, int]: The layer depth and the number of layers.
        """
        depths = self.arch_settings['depths']
        num_layers = sum(depths) + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        first_block = [1 + sum(depths[:i]) for i in range(self.num_stages)]
        parts = name.split('.')
        if parts[0] in ('stem', 'global_tokens'):
            return 0, num_layers
        if parts[0] == 'stages':
            return first_block[int(parts[1])] + int(parts[2]), num_layers
        if parts[0] == 'merge_patches':
            return first_block[int(parts[1]) + 1], num_layers
        return num_layers - 1, num_layers

    def switch_to_deploy(self) -> None:
        """Folds the BatchNorms of ``block_norm_cfg=dict(type='BN')`` into
        the linear layers that read them, with their running statistics:
        the same outputs in eval mode (up to rounding), without the norms.

        mmpretrain's name for a model's inference form (its RepVGG and
        MobileOne have one). Call it after loading the trained weights; the
        folded model is for inference and export (its state dict has other
        keys). With the paper's LayerNorms it changes nothing. In training
        mode it raises (:func:`fold_norm`): call ``model.eval()`` first.
        """
        for module in self.modules():
            if module is not self and hasattr(module, 'switch_to_deploy'):
                module.switch_to_deploy()

    def _parse_arch(self, arch: Union[str, dict]) -> dict:
        keys = {
            'embed_dims', 'depths', 'num_heads', 'ffn_ratios', 'token_mixing'
        }
        if isinstance(arch, str):
            if arch.lower() not in self.arch_zoo:
                raise ConfigError(f'Unknown arch {arch!r}; choose one of '
                                  f'{sorted(self.arch_zoo)} or pass a dict.')
            return self.arch_zoo[arch.lower()]
        if not isinstance(arch, dict) or set(arch) != keys:
            raise ConfigError(f'A custom arch must be a dict with exactly the '
                              f'keys {sorted(keys)}, got {arch!r}.')
        for key in keys - {'token_mixing'}:
            if len(arch[key]) != self.num_stages:
                raise ConfigError(f'arch[{key!r}] needs one value per stage '
                                  f'({self.num_stages}), got {arch[key]!r}.')
        return dict(arch)

    def _parse_out_indices(self, out_indices) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        parsed = []
        for index in out_indices:
            if not -self.num_stages <= index < self.num_stages:
                raise ConfigError(
                    f'out_indices must be in [-{self.num_stages}, '
                    f'{self.num_stages - 1}], got {index}.')
            parsed.append(index % self.num_stages)
        return tuple(sorted(set(parsed)))

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.stem
        for i in range(self.frozen_stages):
            if i > 0:
                yield self.merge_patches[i - 1]
            yield self.stages[i]
            if i in self.out_indices:
                yield getattr(self, f'norm{i}')

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            self.global_tokens.requires_grad = False
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def stage_outputs(self, x: Tensor, last: int = 2) -> List[Tensor]:
        """The outputs of stages 0 to ``last``, each (B, H_i, W_i, C_i)
        (channels last), before any output norm."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'Expected input of shape (B, {self.in_channels},'
                             f' H, W), got {tuple(x.shape)}.')
        if min(x.shape[-2:]) < self.min_input_size:
            raise ValueError(
                f'Input height and width must be at least '
                f'{self.min_input_size} (the backbone reduces by 32), got '
                f'{tuple(x.shape[-2:])}: resize or pad the images.')
        x = self.stem(x)  # (B, H / 8, W / 8, C0)
        tokens = self.global_tokens.expand(x.shape[0], -1, -1, -1)
        outs = []
        for i, blocks in enumerate(self.stages[:last + 1]):
            if i > 0:
                x, tokens = self.merge_patches[i - 1](x, tokens)
            for j, block in enumerate(blocks):
                # The tokens of the very last block feed nothing.
                need_tokens = i < last or j < len(blocks) - 1
                if self.with_cp and self.training:
                    x, tokens = cp.checkpoint(
                        block, x, tokens, need_tokens, use_reentrant=False)
                else:
                    x, tokens = block(x, tokens, need_tokens)
            outs.append(x)
        return outs

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Returns the feature maps of ``out_indices``, each (B, C_i, H_i, W_i)
        with H_i = ceil(H / stride_i)."""
        outs = self.stage_outputs(x, max(self.out_indices))
        return tuple(
            to_channels_first(getattr(self, f'norm{i}')(outs[i])).contiguous()
            for i in self.out_indices)
