"""A toy instance-segmentation dataset in the COCO 2017 layout."""
import json
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np

from .drawing import (paint, shape_mask, texture, textured_background,
                      write_image)

COCO_CLASSES = ('square', 'disc', 'triangle')
# The shapes also differ in texture, so that a short schedule learns them.
TEXTURE_OF = ('checker', None, 'stripes')


def _mask_to_polygons(mask: np.ndarray) -> list:
    """COCO polygons ([x1, y1, x2, y2, ...] lists) of a binary mask."""
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [(contour.reshape(-1, 2) + 0.5).flatten().tolist()
            for contour in contours if len(contour) >= 3]


def draw_scene(rng: np.random.Generator,
               size: int,
               max_objects: int,
               radii: Tuple[float, float] = (0.14, 0.26)):
    """An image and its instance masks: 1 to ``max_objects`` shapes of a
    radius in ``radii`` (fractions of ``size``) that do not overlap (a shape
    that finds no free place is left out)."""
    image = textured_background(rng, size, size)
    taken = np.zeros((size, size), bool)
    masks = []
    for _ in range(rng.integers(1, max_objects + 1)):
        label = int(rng.integers(len(COCO_CLASSES)))
        for _attempt in range(20):
            radius = rng.uniform(*radii) * size
            center = rng.uniform(radius, size - radius, size=2)
            mask = shape_mask(rng, COCO_CLASSES[label], size, size, center,
                              radius)
            # A margin of two pixels keeps neighbours' boxes apart.
            if not (cv2.dilate(
                    mask.astype(np.uint8), np.ones(
                        (5, 5), np.uint8)).astype(bool) & taken).any():
                break
        else:
            continue
        paint(image, mask, rng)
        if TEXTURE_OF[label]:
            image[mask] = texture(rng, TEXTURE_OF[label], size, size)[mask]
        taken |= mask
        masks.append((mask, label))
    return image, masks


def make_toy_coco(root: str,
                  num_train: int = 400,
                  num_val: int = 50,
                  image_size: int = 96,
                  max_objects: int = 3,
                  seed: int = 0) -> str:
    """Writes ``train2017``, ``val2017`` and ``annotations/instances_*.json``.

    Every image holds 1 to ``max_objects`` chequered squares, plain discs
    and striped triangles of random size, rotation and colours on a
    low-contrast textured background, apart from each other; masks are
    stored as COCO polygons.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    categories = [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(COCO_CLASSES)
    ]
    image_id = annotation_id = 0
    for split, count in (('train2017', num_train), ('val2017', num_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        for _ in range(count):
            image_id += 1
            image, masks = draw_scene(rng, image_size, max_objects)
            file_name = f'{image_id:012d}.jpg'
            write_image(osp.join(root, split, file_name), image)
            images.append(
                dict(
                    id=image_id,
                    file_name=file_name,
                    height=image_size,
                    width=image_size))
            for mask, label in masks:
                polygons = _mask_to_polygons(mask)
                # Objects hidden almost entirely behind others are left out.
                if mask.sum() < 16 or not polygons:
                    continue
                ys, xs = np.nonzero(mask)
                x0, y0 = float(xs.min()), float(ys.min())
                annotation_id += 1
                annotations.append(
                    dict(
                        id=annotation_id,
                        image_id=image_id,
                        category_id=label + 1,
                        segmentation=polygons,
                        area=float(mask.sum()),
                        bbox=[
                            x0, y0,
                            float(xs.max()) + 1 - x0,
                            float(ys.max()) + 1 - y0
                        ],
                        iscrowd=0))
        split_name = split.replace('2017', '')
        with open(
                osp.join(root, 'annotations',
                         f'instances_{split_name}2017.json'), 'w') as f:
            json.dump(
                dict(
                    images=images,
                    annotations=annotations,
                    categories=categories), f)
    return root
