"""Draws the training pipeline's output with its annotations.

Usage:
    python tools/analysis_tools/browse_dataset.py CONFIG [--out-dir DIR]
        [--num 10] [--split train|val|test] [--cfg-options K=V ...]

Each sample goes through the config's pipeline (augmentations included)
and is drawn by the task library's own visualizer (mmpretrain's
UniversalVisualizer, mmdet's DetLocalVisualizer, mmseg's
SegLocalVisualizer): its label, its boxes and masks, or its label map.
Pictures are written as DIR/<index>_<image name>.png.

The hosts' own browse_dataset.py tools fail on our pinned stack (mmseg's
with OpenCV 4.14's array layouts, mmpretrain's grid mode with matplotlib
3.11); this one draws with the same visualizers.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmengine.config import DictAction
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope

from mmdualtoken.apis.config import read_config


def _plain_instances(instances) -> None:
    """Box objects and mask structures as the tensors and boolean arrays
    mmdet's visualizer draws (as mmdet's own browse_dataset.py does)."""
    from mmdet.structures.bbox import BaseBoxes
    from mmdet.structures.mask import BitmapMasks, PolygonMasks
    if isinstance(instances.get('bboxes'), BaseBoxes):
        instances.bboxes = instances.bboxes.tensor
    if isinstance(instances.get('masks'), (BitmapMasks, PolygonMasks)):
        instances.masks = instances.masks.to_ndarray().astype(bool)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--out-dir', default='browse_dataset')
    parser.add_argument(
        '--num', type=int, default=10, help='samples to draw (from the first)')
    parser.add_argument(
        '--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.default_scope)
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    cfg.visualizer.setdefault('name', 'browse_dataset')
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(args.out_dir, exist_ok=True)
    for index in range(min(args.num, len(dataset))):
        item = dataset[index]
        sample = item['data_samples']
        # (C, H, W) BGR -> (H, W, C) RGB
        image = np.ascontiguousarray(item['inputs'].permute(
            1, 2, 0).numpy()[..., ::-1])
        name = osp.splitext(osp.basename(sample.img_path))[0]
        out_file = osp.join(args.out_dir, f'{index}_{name}.png')
        if cfg.default_scope == 'mmpretrain':
            visualizer.visualize_cls(
                image, sample, draw_pred=False, out_file=out_file)
        else:
            if cfg.default_scope == 'mmdet':
                _plain_instances(sample.gt_instances)
            visualizer.add_datasample(
                name, image, sample, draw_pred=False, out_file=out_file)
        print(out_file)


if __name__ == '__main__':
    main()
