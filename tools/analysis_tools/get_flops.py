"""Prints parameters and FLOPs (multiply-adds, attention included).

Usage:
    python tools/analysis_tools/get_flops.py [CONFIG ...] [--shape H [W]]

With no config, it reports the four ImageNet classifiers of the model zoo.
Any config of the three task libraries works; for detection and
segmentation models the ``tensor`` forward (backbone, neck and heads without
post-processing) is counted, as mmdet's and mmseg's own tools do.
"""
import argparse
import glob
import os.path as osp
import sys
import warnings

from mmengine.config import DictAction
from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.analysis import get_config_complexity

ZOO = sorted(
    glob.glob(osp.join(ROOT, 'configs/classification/dualtoken-vit-*.py')))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=ZOO)
    parser.add_argument('--shape', type=int, nargs='+', default=[224])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes H or H W')
    height, width = (args.shape * 2)[:2]
    warnings.filterwarnings('ignore')
    MMLogger.get_instance('get_flops', log_level='WARNING')  # no build logs
    print(f'{"config":<40} {"params (M)":>10} {"FLOPs (G)":>10}  '
          f'input 3x{height}x{width}')
    for config in args.configs:
        result = get_config_complexity(config, (3, height, width),
                                       args.cfg_options)
        name = osp.splitext(osp.basename(config))[0]
        print(f'{name:<40} {result["params"] / 1e6:>10.2f} '
              f'{result["flops"] / 1e9:>10.3f}')


if __name__ == '__main__':
    main()
