"""Random shapes and textures for the toy datasets.

Classes differ by shape or texture, never by colour: colours are drawn at
random for every object, so a model has to learn spatial structure.
"""
from typing import Tuple

import cv2
import numpy as np

SHAPES = ('square', 'disc', 'triangle', 'cross')
TEXTURES = ('stripes', 'checker')


def random_colour_pair(rng: np.random.Generator,
                       min_distance: float = 120.) -> Tuple[np.ndarray, ...]:
    """Two RGB colours at least ``min_distance`` apart."""
    while True:
        first, second = rng.uniform(0, 255, size=(2, 3))
        if np.linalg.norm(first - second) >= min_distance:
            return first, second


def texture(rng: np.random.Generator, kind: str, height: int,
            width: int) -> np.ndarray:
    """A (height, width, 3) float image of a texture in two random colours."""
    first, second = random_colour_pair(rng)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    # Coordinates along and across a random direction.
    u = xs * np.cos(angle) + ys * np.sin(angle)
    v = -xs * np.sin(angle) + ys * np.cos(angle)
    # Broad stripes and fine chequers differ in scale as well as in pattern:
    # of the same scale, a short schedule mistook one for the other.
    if kind == 'stripes':
        period = rng.uniform(10, 16)
        pattern = np.sin(2 * np.pi * u / period) > 0
    elif kind == 'checker':
        cell = rng.uniform(3, 5)
        pattern = (np.floor(u / cell) + np.floor(v / cell)) % 2 == 0
    else:
        raise ValueError(f'Unknown texture {kind!r}; one of {TEXTURES}.')
    image = np.where(pattern[..., None], first, second)
    return image + rng.normal(0, 8, size=image.shape)


def textured_background(rng: np.random.Generator, height: int,
                        width: int) -> np.ndarray:
    """A low-contrast random texture, so objects stand out by shape."""
    base = rng.uniform(40, 215, size=3)
    grid = rng.normal(
        0, 25,
        size=(max(2, height // 16), max(2, width // 16), 3)).astype(np.float32)
    smooth = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return base + smooth + rng.normal(0, 6, size=(height, width, 3))


def shape_mask(rng: np.random.Generator, shape: str, height: int, width: int,
               center: Tuple[float, float], radius: float) -> np.ndarray:
    """A boolean (height, width) mask of a shape with a random rotation."""
    mask = np.zeros((height, width), np.uint8)
    cx, cy = center
    angle = rng.uniform(0, 2 * np.pi)

    def polygon(points: np.ndarray) -> None:
        rotation = np.array([[np.cos(angle), -np.sin(angle)],
                             [np.sin(angle), np.cos(angle)]])
        points = points @ rotation.T + [cx, cy]
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)

    if shape == 'disc':
        cv2.circle(mask, (round(cx), round(cy)), round(radius), 1, -1)
    elif shape == 'square':
        side = radius / np.sqrt(2) * 1.2
        polygon(
            np.array([[-side, -side], [side, -side], [side, side],
                      [-side, side]]))
    elif shape == 'triangle':
        # 1.4 times the radius: about the area of a square of that radius.
        angles = np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        polygon(1.4 * radius * np.stack([np.cos(angles), np.sin(angles)], 1))
    elif shape == 'cross':
        arm = radius * 0.35
        polygon(
            np.array([[-radius, -arm], [radius, -arm], [radius, arm],
                      [-radius, arm]]))
        polygon(
            np.array([[-arm, -radius], [arm, -radius], [arm, radius],
                      [-arm, radius]]))
    else:
        raise ValueError(f'Unknown shape {shape!r}; one of {SHAPES}.')
    return mask.astype(bool)


def paint(image: np.ndarray,
          mask: np.ndarray,
          rng: np.random.Generator,
          min_distance: float = 100.) -> None:
    """Fills ``mask`` of ``image`` in place with a random noisy colour at
    least ``min_distance`` from the mean colour under it, so that the shape
    stands out."""
    under = image[mask].mean(0) if mask.any() else image.mean((0, 1))
    while True:
        colour = rng.uniform(0, 255, size=3)
        if np.linalg.norm(colour - under) >= min_distance:
            break
    image[mask] = colour + rng.normal(0, 10, size=(int(mask.sum()), 3))


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image(path: str, rgb: np.ndarray) -> None:
    """Writes an RGB image (JPEG or PNG by extension), creating no folders."""
    if not cv2.imwrite(path, cv2.cvtColor(to_uint8(rgb), cv2.COLOR_RGB2BGR)):
        raise OSError(f'Could not write {path}: check that its folder exists '
                      'and is writable.')
