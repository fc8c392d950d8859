"""A toy semantic-segmentation dataset in the ADE20K (ADEChallengeData2016)
layout, with ADE's labels: 0 is "other" (ignored with reduce_zero_label) and
1..150 are the classes."""
import os
import os.path as osp

import cv2
import numpy as np

from .coco import draw_scene
from .drawing import write_image

# ADE20K label values (1-based, before reduce_zero_label) used by the toy
# data: wall for the background, then building, sky and floor for the
# square, disc and triangle shapes of the toy COCO.
ADE_LABELS = (1, 2, 3, 4)


def _draw_scene(rng: np.random.Generator, size: int):
    image, masks = draw_scene(rng, size, max_objects=3, radii=(0.18, 0.32))
    labels = np.full((size, size), ADE_LABELS[0], np.uint8)
    for mask, label in masks:
        labels[mask] = ADE_LABELS[label + 1]
    # A small unlabelled region, as ADE has: label 0 is ignored in training.
    if rng.uniform() < 0.5:
        corner = rng.integers(0, size - size // 8, size=2)
        rows, cols = (slice(c, c + size // 8) for c in corner)
        if (labels[rows, cols] == ADE_LABELS[0]).all():
            image[rows, cols] = rng.uniform(0, 255, size=3)
            labels[rows, cols] = 0
    return image, labels


def make_toy_ade20k(root: str,
                    num_train: int = 400,
                    num_val: int = 50,
                    image_size: int = 96,
                    seed: int = 0) -> str:
    """Writes ``images/{training,validation}/ADE_*.jpg`` and the PNG label
    maps ``annotations/{training,validation}/ADE_*.png``.

    Scenes are those of the toy COCO with larger shapes: chequered squares,
    plain discs and striped triangles (labelled building, sky and floor)
    on a low-contrast background (wall).

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
