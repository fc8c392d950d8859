"""Inference with our configs through the task libraries' own inferencers,
and pictures of what a model predicts."""
import contextlib
import io
import os
import os.path as osp
from typing import Optional

import numpy as np
from mmengine.config import Config
from PIL import Image, ImageDraw
from torch import nn


def init_model(config: str,
               checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               init_weights: bool = True,
               device: str = 'cpu') -> nn.Module:
    """The model of an mmpretrain, mmdet or mmseg config of ours, built in
    the config's default scope, in eval mode.

    Args:
        config (str): The config file.
        checkpoint (str, optional): Weights to load; they must fit exactly.
        cfg_options (dict, optional): Overrides; ``{'pretrained': PATH or
            None}`` reaches the backbone, as in the tools.
        init_weights (bool): Run the model's initialization (which loads a
            ``Pretrained`` checkpoint the config names). Defaults to True.
        device (str): Where the model goes. Defaults to ``'cpu'``.
    """
    import mmdualtoken  # noqa: F401  (mmdualtoken:: bases, safe loading)
    from mmengine.registry import MODELS, init_default_scope

    from mmdualtoken.engine.config import read_config, set_pretrained
    from mmdualtoken.engine.runs import load_weights_strictly
    cfg = read_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        if 'pretrained' in cfg_options:
            set_pretrained(cfg, cfg_options['pretrained'])
    init_default_scope(cfg.get('default_scope'))  # as the hosts' init_model
    model = MODELS.build(cfg.model)
    if init_weights:
        model.init_weights()
    if checkpoint is not None:
        load_weights_strictly(model, checkpoint)
    return model.to(device).eval()


def init_inferencer(config: str,
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu'):
    """The host library's inferencer for a config of ours:
    ``ImageClassificationInferencer`` (mmpretrain), ``DetInferencer``
    (mmdet) or ``MMSegInferencer`` (mmseg), chosen by its default scope."""
    import mmdualtoken  # noqa: F401  (mmdualtoken:: bases, safe loading)
    scope = Config.fromfile(config).get('default_scope')
    if scope == 'mmpretrain':
        from mmpretrain.apis import ImageClassificationInferencer
        inferencer = ImageClassificationInferencer(
            config, pretrained=checkpoint or False, device=device)
    elif scope == 'mmdet':
        from mmdet.apis import DetInferencer
        inferencer = DetInferencer(config, checkpoint, device=device)
    elif scope == 'mmseg':
        from mmseg.apis import MMSegInferencer
        inferencer = MMSegInferencer(config, checkpoint, device=device)
    else:
        raise ValueError(f'{config}: default_scope {scope!r} is not '
                         f'mmpretrain, mmdet or mmseg.')
    # No progress bar: its line would run into the caller's output.
    inferencer.show_progress = False
    return inferencer


def _top_classes_picture(image: np.ndarray,
                         scores: np.ndarray,
                         classes,
                         top: int = 5) -> np.ndarray:
    """The image beside a panel of its ``top`` classes with score bars."""
    height = max(image.shape[0], 24 * top + 16)
    panel = Image.new('RGB', (260, height), 'white')
    draw = ImageDraw.Draw(panel)
    for rank, index in enumerate(np.argsort(scores)[::-1][:top]):
        y = 8 + 24 * rank
        draw.rectangle([8, y + 14, 8 + int(240 * scores[index]), y + 20],
                       fill=(66, 133, 244))
        draw.text((8, y), f'{rank + 1}. {classes[index]}  '
                  f'{scores[index]:.2f}',
                  fill='black')
    canvas = Image.new('RGB', (image.shape[1] + 260, height), 'white')
    canvas.paste(Image.fromarray(image), (0, 0))
    canvas.paste(panel, (image.shape[1], 0))
    return np.asarray(canvas)


def draw_prediction(inferencer,
                    image: str,
                    out_dir: str,
                    score_thr: float = 0.3) -> str:
    """Runs ``inferencer`` on one image file and saves the picture of its
    prediction as ``OUT_DIR/<image name>.png``: the top-5 classes
    (classification), boxes and masks with class names above
    ``score_thr`` (detection), or a colour overlay with the class names
    (segmentation). Returns the path."""
    from mmpretrain.apis import ImageClassificationInferencer
    os.makedirs(out_dir, exist_ok=True)
    if isinstance(inferencer, ImageClassificationInferencer):
        # mmpretrain draws a progress bar whatever show_progress says.
        with contextlib.redirect_stdout(io.StringIO()):
            result = inferencer(image)[0]
        picture = _top_classes_picture(
            np.asarray(Image.open(image).convert('RGB')),
            np.asarray(result['pred_scores']), inferencer.classes
            or inferencer.model.dataset_meta['classes'])
    else:
        from mmdet.apis import DetInferencer
        kwargs = (
            dict(pred_score_thr=score_thr) if isinstance(
                inferencer, DetInferencer) else {})
        pictures = inferencer(
            image, return_vis=True, **kwargs)['visualization']
        # mmseg returns the array itself for one image, mmdet a list.
        picture = pictures if isinstance(pictures, np.ndarray) else \
            pictures[0]
    path = osp.join(out_dir, osp.splitext(osp.basename(image))[0] + '.png')
    Image.fromarray(picture).save(path)
    return path
