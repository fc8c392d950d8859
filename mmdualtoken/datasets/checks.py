"""Bad data stops with a message that names the file, before work where it
can, instead of a deep traceback or a silently wrong result.

Our dataset and runtime bases declare these checks, so every tool that runs
our configs runs them:

- :class:`CheckedLoadImageFromFile` names an undecodable (corrupt,
  truncated) image;
- :class:`CheckSegMap`, after a segmentation ``LoadAnnotations``, names a
  label map that is not a single-channel map of its image's size with
  labels below the class count;
- :class:`DatasetCheckHook` checks each dataset once it is built, before
  training starts (the validation set too, which otherwise fails only
  after training): no samples; for COCO files, no annotations (metrics
  would be -1), annotations of categories the file does not list (mmdet
  drops them without a word), polygons of fewer than three points
  (pycocotools fails on them during evaluation), and boxes outside their
  image, of zero area or with negative coordinates (mmdet drops the first
  two without a word and keeps the last unclipped, unlike its mask);
  ``bad_boxes='drop'`` lets a run go on without them.

The failures raise :class:`~mmdualtoken.errors.DataError`, which the tools
print as one line, also when a dataloader worker raised it.
"""
import logging
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine.dist import is_main_process
from mmengine.fileio import load
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmdualtoken.errors import ConfigError, DataError
from mmdualtoken.registry import HOOKS, TRANSFORMS


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments) whose failures name
    the file and what to do."""

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except Exception as error:
            raise DataError(
                f'{results["img_path"]} cannot be read as an image '
                f'({type(error).__name__}: {error}). The file is corrupt, '
                f'truncated or not an image: replace it, or remove it from '
                f'the dataset\'s annotations.') from None


@TRANSFORMS.register_module()
class CheckSegMap:
    """Stops on a segmentation label map that the loss cannot use. Put it
    after ``LoadAnnotations``.

    It compares the map's size with the image as loaded (``ori_shape``;
    test pipelines resize before it), wants one channel, and labels below
    ``num_classes`` or equal to ``ignore_index``.

    Args:
        num_classes (int, optional): The dataset's class count (150 for
            ADE20K); None checks the size and the channels only. (The
            dataloader workers of an iteration-based run start before any
            hook could set it from the dataset.)
        ignore_index (int): The label the loss ignores. Defaults to 255.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255):
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def __call__(self, results: dict) -> dict:
        label_map = results['gt_seg_map']
        path = results['seg_map_path']
        if label_map.ndim != 2:
            raise DataError(
                f'{path} has {label_map.shape[2]} channels: a label map holds '
                f'one class index per pixel (an 8-bit grey or palette PNG), '
                f'not colours. Convert it, e.g. with the dataset\'s palette.')
        label = tuple(label_map.shape)
        image = tuple(results['ori_shape'][:2])
        if label != image:
            raise DataError(
                f'{path} is {label[0]}x{label[1]} (HxW) but its image '
                f'{results["img_path"]} is {image[0]}x{image[1]}: a label '
                f'map must have its image\'s size. Fix the pair or remove it '
                f'from the dataset.')
        if self.num_classes is not None:
            values = np.unique(label_map)
            bad = values[(values >= self.num_classes)
                         & (values != self.ignore_index)]
            if len(bad):
                raise DataError(
                    f'{path} holds label {int(bad[-1])}, but the dataset has '
                    f'{self.num_classes} classes (labels 0 to '
                    f'{self.num_classes - 1} after reduce_zero_label, '
                    f'{self.ignore_index} ignored): fix the map, or give the '
                    f'dataset and the heads the right classes.')
        return results


def _source(dataset) -> str:
    return (getattr(dataset, 'ann_file', '')
            or str(getattr(dataset, 'data_prefix', '')))


def no_samples_message(source: str, key: str) -> str:
    return (f'{key} ({source}) has no samples: the annotation file lists no '
            f'images, or all were filtered out (filter_cfg, e.g. '
            f'filter_empty_gt). Check the file and {key}.')


BAD_BOXES = ('stop', 'drop')


def _box_problem(box, image: dict) -> Optional[str]:
    """What is wrong with a COCO ``[x, y, w, h]`` box in its image."""
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return f'a box of {box!r}, not [x, y, width, height]'
    x, y, w, h = box
    width, height = image.get('width'), image.get('height')
    if w <= 0 or h <= 0:
        return 'zero area'
    if width and height and (x >= width or y >= height or x + w <= 0
                             or y + h <= 0):
        return f'outside its {width}x{height} image'
    if x < 0 or y < 0:
        return 'negative coordinates'
    return None


def _check_boxes(content: dict, source: str, key: str, bad_boxes: str) -> None:
    images = {image.get('id'): image for image in content.get('images', [])}
    bad = []
    for ann in content.get('annotations', []):
        problem = _box_problem(
            ann.get('bbox'), images.get(ann.get('image_id'), {}))
        if problem:
            bad.append(f'annotation {ann.get("id")} (image '
                       f'{ann.get("image_id")}, bbox {ann.get("bbox")}): '
                       f'{problem}')
    if not bad:
        return
    shown = '; '.join(bad[:3]) + ('; ...' if len(bad) > 3 else '')
    if bad_boxes == 'drop':
        print_log(
            f'{key} ({source}): {len(bad)} bad boxes ({shown}) go: mmdet '
            f'drops boxes outside their image or of zero area, and the '
            f'pipeline\'s Resize clips the rest to the image '
            f'(dataset_check bad_boxes=drop).', 'current', logging.WARNING)
        return
    raise DataError(
        f'{source}: {len(bad)} bad boxes, {shown}. mmdet would drop boxes '
        f'outside their image or of zero area without a word and keep '
        f'negative coordinates unclipped, unlike their masks. Fix the file, '
        f'or train without them: --cfg-options '
        f'default_hooks.dataset_check.bad_boxes=drop.')


def _check_coco(dataset,
                key: str,
                needs_annotations: bool,
                bad_boxes: str = 'stop') -> None:
    """The COCO file's own content: mmdet keeps only what it parsed."""
    if not hasattr(dataset, 'cat2label') or not dataset.ann_file:
        return  # not a COCO-style mmdet dataset
    source = dataset.ann_file
    content = load(source, backend_args=getattr(dataset, 'backend_args', None))
    _check_boxes(content, source, key, bad_boxes)
    if needs_annotations and not content.get('annotations'):
        raise DataError(
            f'{key} ({source}) has {len(content.get("images", []))} images '
            f'but no annotations: COCO metrics would be -1. Check the '
            f'annotation file\'s "annotations" list (or evaluate with '
            f'format_only=True to only write the results).')
    listed = {category['id'] for category in content.get('categories', [])}
    for ann in content.get('annotations', []):
        where = (f'{source}: annotation {ann.get("id")} (image '
                 f'{ann.get("image_id")})')
        if ann.get('category_id') not in listed:
            raise DataError(
                f'{where} has category_id {ann.get("category_id")}, which '
                f'its "categories" do not list ({sorted(listed)}); mmdet '
                f'would drop it silently. Add the category or fix the id.')
        segmentation = ann.get('segmentation')
        for polygon in segmentation if isinstance(segmentation, list) else []:
            if len(polygon) < 6:
                raise DataError(
                    f'{where} has a polygon of {len(polygon) // 2} points; '
                    f'COCO polygons need at least 3 (x, y) points. Remove it '
                    f'or its annotation.')


def check_dataset(dataset,
                  key: str,
                  needs_annotations: bool,
                  bad_boxes: str = 'stop') -> None:
    """Raises :class:`DataError` for a dataset that cannot train or be
    evaluated (see the module's description)."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for index, part in enumerate(dataset.datasets):
            check_dataset(part, f'{key}.datasets[{index}]', needs_annotations,
                          bad_boxes)
        return
    if hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
        return check_dataset(dataset.dataset, f'{key}.dataset',
                             needs_annotations, bad_boxes)
    if len(dataset) == 0:
        raise DataError(no_samples_message(_source(dataset), key))
    if is_main_process():
        _check_coco(dataset, key, needs_annotations, bad_boxes)


@HOOKS.register_module()
class DatasetCheckHook(Hook):
    """Checks each dataset once, before its first batch: the training and
    validation sets before training starts, the test set before testing
    (see :func:`check_dataset`).

    Args:
        bad_boxes (str): ``'stop'`` (the default) at COCO boxes outside their
            image, of zero area or with negative coordinates, naming the
            first few; ``'drop'`` goes on without them, saying so in one
            line (mmdet drops the first two kinds; the pipeline's
            ``Resize`` clips the rest to the image).
    """

    priority = 'VERY_HIGH'

    def __init__(self, bad_boxes: str = 'stop'):
        if bad_boxes not in BAD_BOXES:
            raise ConfigError(f'DatasetCheckHook: bad_boxes must be one of '
                              f'{BAD_BOXES}, got {bad_boxes!r}.')
        self.bad_boxes = bad_boxes
        self._checked = set()

    def _check(self, runner, split: str) -> None:
        loop = getattr(runner, f'{split}_loop', None)
        if split in self._checked or not hasattr(loop, 'dataloader'):
            return
        self._checked.add(split)
        metrics = getattr(getattr(loop, 'evaluator', None), 'metrics', [])
        check_dataset(
            loop.dataloader.dataset, f'{split}_dataloader.dataset',
            not any(getattr(m, 'format_only', False) for m in metrics),
            self.bad_boxes)

    def before_train(self, runner) -> None:
        self._check(runner, 'train')
        self._check(runner, 'val')

    def before_val(self, runner) -> None:
        self._check(runner, 'val')

    def before_test(self, runner) -> None:
        self._check(runner, 'test')
