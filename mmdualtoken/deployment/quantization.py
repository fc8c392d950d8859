"""OpenVINO INT8 by NNCF's post-training quantization, calibrated on images
of the config's own dataset, and the top-1 agreement of a quantized
classifier with its float model."""
import os
import os.path as osp
from typing import Iterator, List, Tuple

import numpy as np
import torch
from torch import nn

from mmdualtoken.errors import ConfigError


def config_batches(config: str, split: str, pipeline_of: str,
                   limit: int) -> Iterator[Tuple[np.ndarray, list]]:
    """(inputs, data samples) of up to ``limit`` images of the config's
    ``split`` dataset, loaded through the ``pipeline_of`` split's pipeline
    and the model's data preprocessor, as the model sees them."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from mmdualtoken.apis import init_model
    from mmdualtoken.apis.config import read_config
    cfg = read_config(config)
    init_default_scope(cfg.default_scope)
    loader = dict(cfg[f'{split}_dataloader'])
    dataset = dict(loader['dataset'])
    root = dataset.get('data_root')
    if root and not osp.isdir(root):
        raise ConfigError(
            f'{config}: {split}_dataloader.dataset.data_root {root!r} does '
            f'not exist here ({os.getcwd()}); INT8 calibration and its check '
            f'read the config\'s images: run from the folder that holds '
            f'them.')
    dataset['pipeline'] = cfg[f'{pipeline_of}_dataloader'].dataset.pipeline
    loader.update(
        dataset=dataset,
        batch_size=min(limit, 32),
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False))
    loader.pop('batch_sampler', None)
    preprocessor = init_model(config, init_weights=False).data_preprocessor
    seen = 0
    for batch in Runner.build_dataloader(loader):
        with torch.no_grad():
            data = preprocessor(batch, False)
        inputs = data['inputs'][:limit - seen].float().numpy()
        yield inputs, data['data_samples'][:len(inputs)]
        seen += len(inputs)
        if seen >= limit:
            return


def calibration_images(config: str, count: int = 300) -> List[np.ndarray]:
    """Training images of the config, one (1, 3, H, W) array each, through
    its test pipeline (no augmentation)."""
    images = [
        inputs[i:i + 1]
        for inputs, _ in config_batches(config, 'train', 'test', count)
        for i in range(len(inputs))
    ]
    if not images:
        raise ConfigError(f'{config}: its training set has no images to '
                          f'calibrate INT8 with.')
    return images


def quantize_openvino(model, images: List[np.ndarray]):
    """The OpenVINO model with INT8 weights and activations, calibrated on
    ``images`` by NNCF's post-training quantization. The mixed preset
    (symmetric weights, asymmetric activations) fits the activations after
    GELU, which are nearly all positive: on the demo classifier it keeps
    99.2 % of the float model's top-1 answers, where NNCF's transformer
    preset kept 97.7 %."""
    import nncf
    return nncf.quantize(
        model,
        nncf.Dataset(images),
        subset_size=len(images),
        preset=nncf.QuantizationPreset.MIXED)


def classification_agreement(model: nn.Module,
                             session,
                             config: str,
                             limit: int = 10000) -> dict:
    """Top-1 of the float model and of a runtime session on the config's
    test images, and how often their top-1 agree (percentages)."""
    agree = right = right_runtime = total = 0
    for inputs, samples in config_batches(config, 'test', 'test', limit):
        labels = np.array([int(s.gt_label[0]) for s in samples])
        with torch.no_grad():
            expected = model(torch.from_numpy(inputs)).argmax(1).numpy()
        got = np.concatenate(
            [session(inputs[i:i + 1])[0] for i in range(len(inputs))])
        got = got.argmax(1)
        agree += int((got == expected).sum())
        right += int((expected == labels).sum())
        right_runtime += int((got == labels).sum())
        total += len(labels)
    return dict(
        images=total,
        agreement=100 * agree / total,
        top1=100 * right / total,
        top1_runtime=100 * right_runtime / total)
