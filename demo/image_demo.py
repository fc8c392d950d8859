"""Draws what a model predicts on an image, for the three tasks.

    python demo/image_demo.py CONFIG CHECKPOINT IMAGE [IMAGE ...]
        [--out-dir DIR] [--device cpu] [--score-thr 0.3]

Runs the task library's own inferencer (mmpretrain's
ImageClassificationInferencer, mmdet's DetInferencer, mmseg's
MMSegInferencer) and saves ``DIR/<image name>.png``: the top-5 classes, the
boxes and masks with class names, or a colour overlay with class names.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.apis.inference import draw_prediction, init_inferencer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='detection: lowest score drawn')
    args = parser.parse_args(argv)
    inferencer = init_inferencer(args.config, args.checkpoint, args.device)
    for image in args.images:
        print(draw_prediction(inferencer, image, args.out_dir, args.score_thr))


if __name__ == '__main__':
    main()
