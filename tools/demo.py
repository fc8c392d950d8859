"""The main job: DualToken-ViT on toy data, end to end.

    python tools/demo.py [--task {zoo,cls,det,seg,all}] [--work-dir DIR]

zoo: the model zoo table (params, FLOPs) and every variant run on a sample
     image at several resolutions;
cls: DualToken-ViT-T trained and tested on the toy ImageNet (top-1);
det: Mask R-CNN and RetinaNet trained and tested on the toy COCO (mAP);
seg: DeepLabv3 and PSPNet trained and tested on the toy ADE20K (mIoU).
Toy data is written to data/toy/ first if missing. Training and testing go
through tools/train.py and tools/test.py, as a user would run them; each
trained model's prediction on a validation image is drawn into its work
dir (pictures/).
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import time
import warnings

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.models import DualTokenViT
from mmdualtoken.toy_data.coco import draw_scene

JOBS = dict(
    cls=[('classification/demo/dualtoken-vit-t_1xb32-30e_toy-imagenet.py',
          ['accuracy/top1'])],
    det=[('detection/demo/mask-rcnn_dualtoken-vit-t_fpn_1xb4-6e_toy-coco.py',
          ['coco/bbox_mAP', 'coco/segm_mAP']),
         ('detection/demo/retinanet_dualtoken-vit-t_fpn_1xb4-8e_toy-coco.py',
          ['coco/bbox_mAP'])],
    seg=[(f'segmentation/demo/{head}_dualtoken-vit-t_1xb4-240_'
          'toy-ade20k-96x96.py', ['mIoU'])
         for head in ('deeplabv3', 'pspnet')],
)
TOY_DATA = dict(cls='imagenet', det='coco', seg='ade20k')
# A validation image of each toy dataset, for the pictures of predictions.
SAMPLE_IMAGE = dict(
    cls='data/toy/imagenet/val/ILSVRC2012_val_00000001.JPEG',
    det='data/toy/coco/val2017/000000000161.jpg',
    seg='data/toy/ade20k/images/validation/ADE_val_00000001.jpg')
RESOLUTIONS = [(224, 224), (333, 501), (512, 512), (800, 1333)]


def run(*args: str) -> str:
    """Runs a tool with this Python, echoing its last lines; returns output."""
    result = subprocess.run([sys.executable, *args],
                            cwd=ROOT,
                            text=True,
                            capture_output=True)
    if result.returncode != 0:
        sys.exit(f'{" ".join(args)} failed:\n{result.stdout[-2000:]}\n'
                 f'{result.stderr[-4000:]}')
    return result.stdout


def zoo() -> None:
    print(run('tools/analysis_tools/get_flops.py'))
    image = draw_scene(np.random.default_rng(0), 256, 4)[0]
    for arch in ('t', 's', 't-mix', 's-mix'):
        model = DualTokenViT(arch=arch, out_indices=(0, 1, 2)).eval()
        for height, width in RESOLUTIONS:
            resized = torch.nn.functional.interpolate(
                torch.from_numpy(image).float().permute(2, 0, 1)[None],
                size=(height, width),
                mode='bilinear')
            start = time.perf_counter()
            with torch.no_grad():
                outs = model((resized - 128) / 64)
            shapes = ', '.join('x'.join(map(str, o.shape[1:])) for o in outs)
            print(f'{arch:>6} {height:>4}x{width:<5} -> {shapes:<40} '
                  f'{time.perf_counter() - start:6.2f} s')


def train_and_test(task: str, work_root: str) -> list:
    if not osp.isdir(osp.join(ROOT, 'data/toy', TOY_DATA[task])):
        run('tools/make_toy_data.py', '--task', task)
    results = []
    for config, metrics in JOBS[task]:
        name = osp.splitext(osp.basename(config))[0]
        work_dir = osp.join(work_root, name)
        config = osp.join('configs', config)
        print(f'== {name}: training (log in {work_dir})', flush=True)
        start = time.perf_counter()
        # tools/test.py evaluates right after: no validation while training.
        run('tools/train.py', config, '--work-dir', work_dir, '--no-validate')
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
        run('tools/test.py', config, checkpoint, '--work-dir',
            osp.join(work_dir, 'test'))
        with open(osp.join(work_dir, 'test', 'metrics.json')) as f:
            values = json.load(f)
        found = {m: values[m] for m in metrics}
        print(f'   {time.perf_counter() - start:.0f} s: ' +
              ', '.join(f'{m} = {v:.3f}' for m, v in found.items()))
        picture = run('demo/image_demo.py', config, checkpoint,
                      SAMPLE_IMAGE[task], '--out-dir',
                      osp.join(work_dir, 'pictures')).split()[-1]
        print(f'   prediction drawn: {picture}')
        results.append((name, found, work_dir))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--task', choices=['zoo', *JOBS, 'all'], default='all')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/demo'))
    args = parser.parse_args()
    warnings.filterwarnings('ignore')
    torch.manual_seed(0)
    if args.task in ('zoo', 'all'):
        zoo()
    results = []
    for task in (JOBS if args.task == 'all' else
                 [args.task] if args.task in JOBS else []):
        results += train_and_test(task, args.work_dir)
    if results:
        print('\nToy-data results (trained from scratch on CPU):')
        for name, found, _ in results:
            print(f'  {name:<36} ' + '  '.join(f'{m} {v:.3f}'
                                               for m, v in found.items()))


if __name__ == '__main__':
    main()
