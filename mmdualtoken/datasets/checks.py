"""Bad data stops with a message that names the file, not a traceback.

``tools/train.py`` and ``tools/test.py`` add these checks to every config
(:func:`add_data_checks`):

- image loading that names an undecodable (corrupt, truncated) file;
- for segmentation, a label map of another size than its image;
- before training, validation and testing, a dataset with no samples or,
  for detection, no annotations (COCO metrics would be -1 everywhere).

The failures raise :class:`DataError`, which the tools turn into a one-line
message, also when a dataloader worker raised it.
"""
import contextlib
from typing import Iterator, Optional

from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from mmengine.hooks import Hook

from mmdualtoken.registry import HOOKS, TRANSFORMS

_IMAGE_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile',
                  'mmdet.LoadImageFromFile', 'mmseg.LoadImageFromFile',
                  'mmpretrain.LoadImageFromFile')
_SEG_ANNOTATIONS = ('LoadAnnotations', 'mmseg.LoadAnnotations')


class DataError(ValueError):
    """A sample or dataset the task cannot use; the message says which."""

    MARK = 'DataError: '

    @classmethod
    def message_of(cls, error: Exception) -> str:
        """Our message, also from the re-raise of a dataloader worker,
        whose text holds the worker's whole traceback."""
        text = str(error).strip()
        return text.rsplit(cls.MARK, 1)[-1] if cls.MARK in text else text


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
class CheckSegMapSize:
    """Stops on a segmentation label map whose size differs from its
    image's (put after ``LoadAnnotations``; compares with the image as
    loaded, ``ori_shape``, since test pipelines resize before it)."""

    def __call__(self, results: dict) -> dict:
        label = tuple(results['gt_seg_map'].shape[:2])
        image = tuple(results['ori_shape'][:2])
        if label != image:
            raise DataError(
                f'{results["seg_map_path"]} is {label[0]}x{label[1]} (HxW) '
                f'but its image {results["img_path"]} is {image[0]}x'
                f'{image[1]}: a label map must have its image\'s size. '
                f'Fix the pair or remove it from the dataset.')
        return results


def _lacks_annotations(dataset) -> bool:
    """True for an mmdet dataset without a single annotated object (the
    first annotated image ends the search)."""
    if 'instances' not in dataset.get_data_info(0):
        return False  # not a detection dataset
    return not any(
        dataset.get_data_info(index)['instances']
        for index in range(len(dataset)))


def _source(dataset) -> str:
    return (getattr(dataset, 'ann_file', '')
            or str(getattr(dataset, 'data_prefix', '')))


def _no_samples(dataset, key: str) -> str:
    return (f'{key} ({_source(dataset)}) has no samples: the annotation '
            f'file lists no images, or all were filtered out (filter_cfg, '
            f'e.g. filter_empty_gt). Check the file and {key}.')


def _empty_dataset_error(error: ValueError) -> Optional[DataError]:
    """mmengine fails on a dataset left with no samples while serialising
    it (``np.concatenate`` of nothing), before any hook can look: the
    DataError that says so, or None for any other error."""
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_name == '_serialize_data':
            return DataError(
                _no_samples(frame.f_locals.get('self'), 'The dataset'))
        trace = trace.tb_next
    return None


@contextlib.contextmanager
def data_errors_as_messages() -> Iterator[None]:
    """Turns the data failures above, raised in this process or in a
    dataloader worker, into a one-line exit message."""
    try:
        yield
    except DataError as error:
        raise SystemExit(DataError.message_of(error)) from None
    except ValueError as error:
        explained = _empty_dataset_error(error)
        if explained is None:
            raise
        raise SystemExit(str(explained)) from None


def check_dataset(dataset, key: str, needs_annotations: bool) -> None:
    """Raises :class:`DataError` for a dataset with no samples, or (when
    ``needs_annotations``) a detection dataset with no annotations."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for index, part in enumerate(dataset.datasets):
            check_dataset(part, f'{key}.datasets[{index}]', needs_annotations)
        return
    if hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
        return check_dataset(dataset.dataset, f'{key}.dataset',
                             needs_annotations)
    if len(dataset) == 0:
        raise DataError(_no_samples(dataset, key))
    if needs_annotations and _lacks_annotations(dataset):
        raise DataError(
            f'{key} ({_source(dataset)}) has {len(dataset)} images but no '
            f'annotations: COCO metrics would be -1. Check the annotation '
            f'file\'s "annotations" list (or evaluate with format_only=True '
            f'to only write the results).')


@HOOKS.register_module()
class DatasetCheckHook(Hook):
    """Checks each dataset once its dataloader is built, before its first
    batch (see :func:`check_dataset`)."""

    priority = 'VERY_HIGH'

    def __init__(self):
        self._checked = set()

    def _check(self, runner, split: str, evaluator=None) -> None:
        if split in self._checked:
            return
        self._checked.add(split)
        loader = getattr(runner, f'{split}_dataloader')
        metrics = getattr(evaluator, 'metrics', [])
        check_dataset(
            loader.dataset, f'{split}_dataloader.dataset',
            not any(getattr(m, 'format_only', False) for m in metrics))

    def before_train(self, runner) -> None:
        self._check(runner, 'train')

    def before_val(self, runner) -> None:
        self._check(runner, 'val', runner.val_evaluator)

    def before_test(self, runner) -> None:
        self._check(runner, 'test', runner.test_evaluator)


def _check_pipeline(pipeline: list, scope: str) -> None:
    for index in range(len(pipeline) - 1, -1, -1):
        step = pipeline[index]
        if not isinstance(step, dict):
            continue
        if step.get('type') in _IMAGE_LOADERS:
            step['type'] = 'mmdualtoken.CheckedLoadImageFromFile'
        elif scope == 'mmseg' and step.get('type') in _SEG_ANNOTATIONS:
            pipeline.insert(index + 1,
                            dict(type='mmdualtoken.CheckSegMapSize'))


def add_data_checks(cfg: Config) -> None:
    """Adds the checks to every dataloader of ``cfg`` and the hook."""
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        datasets = [loader.dataset]
        while datasets:
            dataset = datasets.pop()
            datasets += dataset.get('datasets', [])
            if 'dataset' in dataset:
                datasets.append(dataset.dataset)
            if isinstance(dataset.get('pipeline'), list):
                _check_pipeline(dataset.pipeline, cfg.default_scope)
    tta = cfg.get('tta_pipeline')
    if isinstance(tta, list):
        _check_pipeline(tta, cfg.default_scope)
    cfg.custom_hooks = [
        *cfg.get('custom_hooks', []),
        dict(type='mmdualtoken.DatasetCheckHook')
    ]
