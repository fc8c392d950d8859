"""Inference with our configs: the model, the task libraries' own
inferencers, and pictures of what a model predicts, drawn by their own
visualizers."""
import contextlib
import io
import math
import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from PIL import Image, ImageDraw, ImageFont
from torch import nn

MIN_PANEL = 512  # pixels on the long side of each panel of a picture


def init_model(config: str,
               checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               init_weights: bool = True,
               device: str = 'cpu') -> nn.Module:
    """The model of an mmpretrain, mmdet or mmseg config of ours, built in
    the config's default scope (made the current one, as the hosts'
    ``init_model`` do), in eval mode.

    Args:
        config (str): The config file.
        checkpoint (str, optional): Weights to load; they must fit exactly.
        cfg_options (dict, optional): Overrides; ``{'pretrained': PATH or
            None}`` reaches the backbone, as in the tools.
        init_weights (bool): Run the model's initialization (which loads a
            ``Pretrained`` checkpoint the config names). Defaults to True.
        device (str): Where the model goes. Defaults to ``'cpu'``.
    """
    from mmengine.registry import MODELS, init_default_scope

    import mmdualtoken  # noqa: F401  (mmdualtoken:: bases, safe loading)
    from mmdualtoken.engine.checkpoint import load_weights_strictly
    from .config import read_config, set_pretrained
    cfg = read_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        if 'pretrained' in cfg_options:
            set_pretrained(cfg, cfg_options['pretrained'])
    init_default_scope(cfg.get('default_scope'))  # as the hosts' init_model
    if cfg.model.get('data_preprocessor') is None:  # as mmengine's runner
        cfg.model.data_preprocessor = cfg.get('data_preprocessor')
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
    config = Config.fromfile(config)
    # The inferencers feed arrays to the image loader they know by name and
    # drop the annotations: our data checks are for datasets on disk.
    dataset = config.test_dataloader.dataset
    dataset.pipeline = [
        dict(step, type='LoadImageFromFile')
        if step.get('type') == 'mmdualtoken.CheckedLoadImageFromFile' else step
        for step in dataset.pipeline
        if step.get('type') != 'mmdualtoken.CheckSegMap'
    ]
    scope = config.get('default_scope')
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
        raise ValueError(f'{config.filename}: default_scope {scope!r} is '
                         f'not mmpretrain, mmdet or mmseg.')
    # No progress bar: its line would run into the caller's output.
    inferencer.show_progress = False
    return inferencer


def _font(size: int):
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def side_by_side(panels: Sequence[np.ndarray],
                 titles: Sequence[str]) -> np.ndarray:
    """RGB panels in a row, each under its title, on a white canvas."""
    title_height = 36
    height = max(p.shape[0] for p in panels) + title_height
    canvas = Image.new('RGB', (sum(p.shape[1] for p in panels), height),
                       'white')
    draw = ImageDraw.Draw(canvas)
    x = 0
    for panel, title in zip(panels, titles):
        canvas.paste(Image.fromarray(panel), (x, title_height))
        draw.text((x + 8, 6), title, fill='black', font=_font(22))
        x += panel.shape[1]
    return np.asarray(canvas)


def _top_classes_panel(scores: np.ndarray,
                       classes: Sequence[str],
                       size: int,
                       top: int = 5) -> np.ndarray:
    """The ``top`` classes with their scores as bars."""
    panel = Image.new('RGB', (size, size), 'white')
    draw = ImageDraw.Draw(panel)
    row = size // (top + 1)
    for rank, index in enumerate(np.argsort(scores)[::-1][:top]):
        y = 16 + row * rank
        draw.text((16, y), f'{rank + 1}. {classes[index]}  '
                  f'{scores[index]:.2f}',
                  fill='black',
                  font=_font(max(14, row // 3)))
        draw.rectangle([
            16, y + row // 2, 16 + int(
                (size - 32) * scores[index]), y + row // 2 + row // 5
        ],
                       fill=(66, 133, 244))
    return np.asarray(panel)


def _scale(image: np.ndarray, factor: int) -> np.ndarray:
    return np.ascontiguousarray(image.repeat(factor, 0).repeat(
        factor, 1)) if factor > 1 else image


def _rescale_detections(instances, factor: int) -> None:
    """Boxes and masks as plain tensors (as mmdet's visualizer draws
    them), scaled by ``factor`` (nearest neighbour for masks)."""
    from mmdet.structures.bbox import BaseBoxes
    from mmdet.structures.mask import BitmapMasks, PolygonMasks
    if 'bboxes' in instances:
        boxes = instances.bboxes
        boxes = boxes.tensor if isinstance(boxes, BaseBoxes) else boxes
        instances.bboxes = boxes * factor
    if 'masks' in instances:
        masks = instances.masks
        if isinstance(masks, (BitmapMasks, PolygonMasks)):
            masks = masks.to_ndarray()
        masks = torch.as_tensor(np.asarray(masks)).bool()
        instances.masks = masks.repeat_interleave(factor, 1).repeat_interleave(
            factor, 2).numpy()


def draw_validation_sample(config: str,
                           checkpoint: str,
                           out_dir: str,
                           index: int = 0,
                           score_thr: float = 0.3) -> str:
    """Saves ``OUT_DIR/<image name>.png``: a validation image of the
    config's dataset, its ground truth and the model's prediction side by
    side, each panel at least 512 px on its long side (small images are
    scaled up by a whole factor), drawn by the task library's own
    visualizer with class names and scores. Returns the path."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, VISUALIZERS

    # The checkpoint holds every weight: nothing to initialize first.
    model = init_model(config, checkpoint, init_weights=False)
    cfg = Config.fromfile(config)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    sample = dataset[index]
    with torch.no_grad():
        result = model.test_step(pseudo_collate([sample]))[0]
    image = np.asarray(Image.open(result.img_path).convert('RGB'))
    factor = max(1, math.ceil(MIN_PANEL / max(image.shape[:2])))
    big = _scale(image, factor)
    visualizer = VISUALIZERS.build({
        **cfg.visualizer, 'name':
        f'draw_{os.getpid()}_{id(result)}'
    })
    visualizer.dataset_meta = dataset.metainfo
    classes = dataset.metainfo['classes']
    scope = cfg.default_scope
    if scope == 'mmpretrain':
        truth = visualizer.visualize_cls(
            big, result, draw_gt=True, draw_pred=False)
        panels = [
            truth,
            _top_classes_panel(result.pred_score.numpy(), classes,
                               big.shape[0])
        ]
    else:
        if scope == 'mmdet':
            for instances in (result.gt_instances, result.pred_instances):
                _rescale_detections(instances, factor)
            kwargs = dict(pred_score_thr=score_thr)
        else:
            from mmengine.structures import PixelData
            for key in ('gt_sem_seg', 'pred_sem_seg'):
                scaled = result.get(key).data.repeat_interleave(
                    factor, 1).repeat_interleave(factor, 2)
                result.set_field(PixelData(data=scaled), key)
            kwargs = {}
        panels = []
        for truth in (True, False):
            visualizer.add_datasample(
                'sample',
                big,
                result,
                draw_gt=truth,
                draw_pred=not truth,
                **kwargs)
            panels.append(visualizer.get_image())
    picture = side_by_side([big, *panels],
                           ['input', 'ground truth', 'prediction'])
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir,
                    osp.splitext(osp.basename(result.img_path))[0] + '.png')
    Image.fromarray(picture).save(path)
    return path


def draw_prediction(inferencer,
                    image: str,
                    out_dir: str,
                    score_thr: float = 0.3) -> str:
    """Runs ``inferencer`` on one image file and saves the image and the
    picture of its prediction side by side as ``OUT_DIR/<image name>.png``:
    the top-5 classes (classification), boxes and masks with class names
    above ``score_thr`` (detection), or a colour overlay with the class
    names (segmentation), each panel at least 512 px on its long side.
    Returns the path."""
    from mmpretrain.apis import ImageClassificationInferencer
    os.makedirs(out_dir, exist_ok=True)
    rgb = np.asarray(Image.open(image).convert('RGB'))
    factor = max(1, math.ceil(MIN_PANEL / max(rgb.shape[:2])))
    big = _scale(rgb, factor)
    if isinstance(inferencer, ImageClassificationInferencer):
        # mmpretrain draws a progress bar whatever show_progress says.
        with contextlib.redirect_stdout(io.StringIO()):
            result = inferencer(image)[0]
        drawn = _top_classes_panel(
            np.asarray(result['pred_scores']), inferencer.classes
            or inferencer.model.dataset_meta['classes'], big.shape[0])
    else:
        from mmdet.apis import DetInferencer
        kwargs = (
            dict(pred_score_thr=score_thr) if isinstance(
                inferencer, DetInferencer) else {})
        # The pipeline resizes the scaled-up image as it would the image.
        pictures = inferencer(
            big[..., ::-1].copy(), return_vis=True, **kwargs)['visualization']
        # mmseg returns the array itself for one image, mmdet a list.
        drawn = pictures if isinstance(pictures, np.ndarray) else pictures[0]
    picture = side_by_side([big, drawn], ['input', 'prediction'])
    path = osp.join(out_dir, osp.splitext(osp.basename(image))[0] + '.png')
    Image.fromarray(picture).save(path)
    return path


__all__: List[str] = [
    'init_model', 'init_inferencer', 'draw_validation_sample',
    'draw_prediction', 'side_by_side'
]
