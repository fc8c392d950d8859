"""A toy classification dataset in the ImageNet (ILSVRC2012) layout."""
import os
import os.path as osp

import numpy as np

from .drawing import (SHAPES, paint, shape_mask, textured_background,
                      write_image)

# One synthetic WordNet-style id per class: the folder names of train/.
IMAGENET_CLASSES = SHAPES
WNIDS = tuple(f'n9{index:07d}' for index in range(len(IMAGENET_CLASSES)))


def _draw_sample(rng: np.random.Generator, label: int,
                 size: int) -> np.ndarray:
    image = textured_background(rng, size, size)
    radius = rng.uniform(size * 0.25, size * 0.4)
    center = rng.uniform(size / 2 - size * 0.12, size / 2 + size * 0.12, 2)
    paint(image,
          shape_mask(rng, IMAGENET_CLASSES[label], size, size, center, radius),
          rng)
    return image


def make_toy_imagenet(root: str,
                      num_train_per_class: int = 256,
                      num_val_per_class: int = 32,
                      image_size: int = 64,
                      seed: int = 0) -> str:
    """Writes ``train/<wnid>/<wnid>_<n>.JPEG``, the flat
    ``val/ILSVRC2012_val_<n>.JPEG`` and the lists ``meta/train.txt`` and
    ``meta/val.txt`` (``path label`` per line) that mmpretrain's ImageNet
    dataset reads.

    Classes are shapes (square, disc, triangle, cross) of random size,
    rotation and colour on a low-contrast textured background.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    os.makedirs(osp.join(root, 'val'), exist_ok=True)
    train_lines, val_lines = [], []
    for label, wnid in enumerate(WNIDS):
        os.makedirs(osp.join(root, 'train', wnid), exist_ok=True)
        for index in range(num_train_per_class):
            path = f'{wnid}/{wnid}_{index}.JPEG'
            write_image(
                osp.join(root, 'train', path),
                _draw_sample(rng, label, image_size))
            train_lines.append(f'{path} {label}')
    labels = np.repeat(np.arange(len(WNIDS)), num_val_per_class)
    for index, label in enumerate(rng.permutation(labels), start=1):
        path = f'ILSVRC2012_val_{index:08d}.JPEG'
        write_image(
            osp.join(root, 'val', path), _draw_sample(rng, label, image_size))
        val_lines.append(f'{path} {label}')
    for name, lines in (('train.txt', train_lines), ('val.txt', val_lines)):
        with open(osp.join(root, 'meta', name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return root
