"""A toy semantic-segmentation dataset in the ADE20K (ADEChallengeData2016)
layout, with ADE's labels: 0 is "other" (ignored with reduce_zero_label) and
1..150 are the classes."""
import os
import os.path as osp

import cv2
import numpy as np

from .drawing import SHAPES, TEXTURES, shape_mask, texture, write_image

# ADE20K label values (1-based, before reduce_zero_label) used by the toy
# data, one texture each: wall, building, sky, floor.
ADE_LABELS = (1, 2, 3, 4)


def _draw_scene(rng: np.random.Generator, size: int):
    kinds = dict(zip(ADE_LABELS, TEXTURES))
    background = int(rng.choice(ADE_LABELS))
    image = texture(rng, kinds[background], size, size)
    labels = np.full((size, size), background, np.uint8)
    for _ in range(rng.integers(1, 4)):
        label = int(rng.choice(ADE_LABELS))
        radius = rng.uniform(size * 0.15, size * 0.35)
        center = rng.uniform(0, size, size=2)
        mask = shape_mask(rng, str(rng.choice(SHAPES)), size, size, center,
                          radius)
        image[mask] = texture(rng, kinds[label], size, size)[mask]
        labels[mask] = label
    # A small unlabelled region, as ADE has: label 0 is ignored in training.
    if rng.uniform() < 0.5:
        mask = shape_mask(rng, 'disc', size, size, rng.uniform(0, size, 2),
                          size * 0.08)
        image[mask] = rng.uniform(0, 255, size=3)
        labels[mask] = 0
    return image, labels


def make_toy_ade20k(root: str,
                    num_train: int = 120,
                    num_val: int = 30,
                    image_size: int = 128,
                    seed: int = 0) -> str:
    """Writes ``images/{training,validation}/ADE_*.jpg`` and the PNG label
    maps ``annotations/{training,validation}/ADE_*.png``.

    Regions are random shapes; their class is told by texture (stripes,
    checker, dots, blotches) in random colours.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    for split, prefix, count in (('training', 'ADE_train', num_train),
                                 ('validation', 'ADE_val', num_val)):
        image_dir = osp.join(root, 'images', split)
        label_dir = osp.join(root, 'annotations', split)
        os.makedirs(image_dir, exist_ok=True)
        os.makedirs(label_dir, exist_ok=True)
        for index in range(1, count + 1):
            image, labels = _draw_scene(rng, image_size)
            name = f'{prefix}_{index:08d}'
            write_image(osp.join(image_dir, name + '.jpg'), image)
            cv2.imwrite(osp.join(label_dir, name + '.png'), labels)
    return root
