"""A toy instance-segmentation dataset in the COCO 2017 layout."""
import json
import os
import os.path as osp

import cv2
import numpy as np

from .drawing import paint, shape_mask, textured_background, write_image

COCO_CLASSES = ('square', 'disc', 'triangle')


def _mask_to_polygons(mask: np.ndarray) -> list:
    """COCO polygons ([x1, y1, x2, y2, ...] lists) of a binary mask."""
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [(contour.reshape(-1, 2) + 0.5).flatten().tolist()
            for contour in contours if len(contour) >= 3]


def draw_scene(rng: np.random.Generator, size: int, max_objects: int):
    """An image and its visible instance masks; later shapes occlude."""
    image = textured_background(rng, size, size)
    instance_map = np.full((size, size), -1, np.int64)
    labels = []
    for index in range(rng.integers(1, max_objects + 1)):
        label = int(rng.integers(len(COCO_CLASSES)))
        radius = rng.uniform(size * 0.09, size * 0.25)
        center = rng.uniform(radius * 0.6, size - radius * 0.6, size=2)
        mask = shape_mask(rng, COCO_CLASSES[label], size, size, center, radius)
        paint(image, mask, rng)
        instance_map[mask] = index
        labels.append(label)
    masks = [(instance_map == i, label) for i, label in enumerate(labels)]
    return image, masks


def make_toy_coco(root: str,
                  num_train: int = 160,
                  num_val: int = 40,
                  image_size: int = 128,
                  max_objects: int = 4,
                  seed: int = 0) -> str:
    """Writes ``train2017``, ``val2017`` and ``annotations/instances_*.json``.

    Every image holds 1 to ``max_objects`` squares, discs and triangles of
    random size, rotation and colour on a textured background; masks are the
    visible parts (occlusion applied), stored as COCO polygons.

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
