"""The main job: DualToken-ViT on toy data, end to end.

    python tools/demo.py [--task {zoo,cls,det,seg,all}] [--work-dir DIR]

zoo: the model zoo table (params, FLOPs) and every variant's output sizes
     on an odd-sized image;
cls: DualToken-ViT-T trained and tested on the toy ImageNet (top-1);
det: Mask R-CNN and RetinaNet trained and tested on the toy COCO (mAP);
seg: DeepLabv3 and PSPNet trained and tested on the toy ADE20K (mIoU).
Toy data is written to data/toy/ first if missing. Training and testing go
through tools/train.py and tools/test.py, as a user would run them, with
their progress shown as it comes (the whole logs are in the work dirs);
then each model's input, ground truth and prediction on a validation image
are drawn side by side into its work dir (pictures/).
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
import warnings

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.toy_data import DEMO_CONFIGS  # noqa: E402

METRICS = dict(
    cls=['accuracy/top1'],
    det=['coco/bbox_mAP', 'coco/segm_mAP'],
    seg=['mIoU'])
PROGRESS = re.compile(
    r'(Epoch|Iter)\((train|val|test)\)\s+(\[[^]]+\](?:\s*\[[^]]+\])?)')
FIGURE = re.compile(r'\b(eta|loss|accuracy/top1|coco/bbox_mAP|mIoU): (\S+)')
# Detections drawn in the pictures: the confident ones.
PICTURE_SCORE_THR = 0.5


def stream(log: str, *args: str) -> None:
    """Runs a tool with this Python; its whole output goes to ``log`` and
    its progress lines to the screen as they come."""
    with open(log, 'w') as out:
        process = subprocess.Popen([sys.executable, '-u', *args],
                                   cwd=ROOT,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT,
                                   text=True)
        for line in process.stdout:
            out.write(line)
            found = PROGRESS.search(line)
            if found or line.startswith('error: '):
                figures = ' '.join(f'{k} {v}' for k, v in FIGURE.findall(line))
                shown = (f'{found.group(2)} {found.group(3)}  {figures}'
                         if found else line.strip())
                print(f'     {shown}', flush=True)
        if process.wait() != 0:
            sys.exit(f'{" ".join(args)} failed; its output is in {log}')


def zoo() -> None:
    from mmdualtoken.models import DualTokenViT
    subprocess.run([sys.executable, 'tools/analysis_tools/get_flops.py'],
                   cwd=ROOT,
                   check=True)
    image = torch.rand(1, 3, 333, 501)
    for arch in ('t', 's', 't-mix', 's-mix'):
        model = DualTokenViT(arch=arch, out_indices=(0, 1, 2)).eval()
        with torch.no_grad():
            shapes = [tuple(o.shape[1:]) for o in model(image)]
        print(f'{arch:>6} 333x501 -> {shapes}')


def train_and_test(task: str, work_root: str) -> list:
    from mmdualtoken.apis import draw_validation_sample

    # Writes the toy data if missing or of another version.
    subprocess.run([sys.executable, 'tools/make_toy_data.py', '--task', task],
                   cwd=ROOT,
                   check=True)
    os.makedirs(work_root, exist_ok=True)
    results = []
    for config in DEMO_CONFIGS[task]:
        name = osp.splitext(osp.basename(config))[0]
        work_dir = osp.join(work_root, name)
        config = osp.join(ROOT, 'configs', config)
        print(f'== {name}: training (log in {work_dir})', flush=True)
        start = time.perf_counter()
        # tools/test.py evaluates right after: no validation while training.
        stream(
            osp.join(work_root, f'{name}_train.log'), 'tools/train.py', config,
            '--work-dir', work_dir, '--no-validate')
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
        print(f'== {name}: testing {osp.basename(checkpoint)}', flush=True)
        stream(
            osp.join(work_root, f'{name}_test.log'), 'tools/test.py', config,
            checkpoint, '--work-dir', osp.join(work_dir, 'test'))
        with open(osp.join(work_dir, 'test', 'metrics.json')) as f:
            values = json.load(f)
        found = {m: values[m] for m in METRICS[task] if m in values}
        seconds = time.perf_counter() - start
        print(f'   {seconds:.0f} s: ' + ', '.join(f'{m} = {v:.3f}'
                                                  for m, v in found.items()))
        # The libraries' loading messages and deprecation warnings would
        # bury the path this prints.
        with warnings.catch_warnings(), contextlib.redirect_stdout(
                io.StringIO()):
            warnings.simplefilter('ignore')
            picture = draw_validation_sample(
                config,
                checkpoint,
                osp.join(work_dir, 'pictures'),
                score_thr=PICTURE_SCORE_THR)
        print(f'   input, ground truth and prediction: {picture}')
        results.append((name, found, seconds, picture))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--task', choices=['zoo', *DEMO_CONFIGS, 'all'], default='all')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/demo'))
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.task in ('zoo', 'all'):
        zoo()
    results = []
    for task in (DEMO_CONFIGS if args.task == 'all' else
                 [args.task] if args.task in DEMO_CONFIGS else []):
        results += train_and_test(task, args.work_dir)
    if results:
        print('\nToy-data results (trained from scratch on this machine):')
        for name, found, seconds, picture in results:
            print(f'  {name:<52} ' + '  '.join(f'{m} {v:.3f}'
                                               for m, v in found.items()) +
                  f'  ({seconds:.0f} s)')
        print('Pictures:')
        for _, _, _, picture in results:
            print(f'  {picture}')


if __name__ == '__main__':
    main()
