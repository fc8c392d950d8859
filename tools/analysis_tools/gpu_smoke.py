"""The headline commands on this machine's GPUs, in one go, from the toy data.

    python tools/analysis_tools/gpu_smoke.py [--gpus N] [--out smoke.json]
        [--work-dir work_dirs/gpu_smoke]

For Mask R-CNN, RetinaNet, DeepLabv3 and the classifier (the demo configs,
a few iterations each): ``tools/dist_train.sh CONFIG N --amp`` and
``tools/dist_test.sh`` (bbox / segm mAP, mIoU, top-1); then one run stopped
by SIGTERM in the middle and continued with ``--resume``. It prints and
saves a table of seconds per iteration, peak memory and the metrics, with
the versions and whether mmcv's ops ran on CUDA. N defaults to the number of
GPUs; without one it runs N=1 CPU process without ``--amp`` (the path the
test suite takes). Run it where ``data/toy/`` is (it is written if missing),
e.g. the checkout's root.
"""
import argparse
import glob
import json
import os
import os.path as osp
import signal
import statistics
import subprocess
import sys
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's mmdualtoken
from mmdualtoken.toy_data import DEMO_CONFIGS  # noqa: E402

DEMOS = dict(
    mask_rcnn=DEMO_CONFIGS['det'][0],
    retinanet=DEMO_CONFIGS['det'][1],
    deeplabv3=DEMO_CONFIGS['seg'][0],
    classifier=DEMO_CONFIGS['cls'][0])


def demo_config(job: str) -> str:
    return osp.join(ROOT, 'configs', DEMOS[job])


def shortened(job: str, images: int, iters: int) -> list:
    """--cfg-options for a few iterations of a demo."""
    if job == 'deeplabv3':
        return [
            f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'default_hooks.checkpoint.interval={iters}',
            'default_hooks.logger.interval=1'
        ]
    return [
        'train_cfg.max_epochs=1', f'train_dataloader.dataset.indices={images}',
        'default_hooks.logger.interval=1'
    ]


# After a few iterations no RetinaNet score reaches 0.05 (the focal loss's
# prior is 0.01), and mmdet's COCO metric then reports nothing.
TEST_OPTIONS = dict(retinanet=['model.test_cfg.score_thr=0.0'])


def say(message: str) -> None:
    print(f'[gpu_smoke] {message}', flush=True)


def launch(script: str, *args, log: str) -> subprocess.CompletedProcess:
    with open(log, 'w') as out:
        result = subprocess.run(
            ['bash', osp.join(ROOT, 'tools', script), *map(str, args)],
            stdout=out,
            stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f'{script} {" ".join(map(str, args))} failed '
                         f'({result.returncode}); the end of {log}:\n{tail}')
    return result


def scalars(work_dir: str) -> list:
    found = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        return []
    with open(found[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def train_figures(work_dir: str) -> dict:
    """Median seconds per iteration (after the first logged interval) and
    the peak memory mmengine logged (MiB, CUDA only)."""
    records = [r for r in scalars(work_dir) if 'time' in r]
    times = [r['time'] for r in records[1:]] or [r['time'] for r in records]
    memory = [r['memory'] for r in records if 'memory' in r]
    return dict(
        seconds_per_iter=statistics.median(times) if times else None,
        peak_memory_mib=max(memory) if memory else None)


def run_job(job: str, gpus: int, amp: bool, work_root: str, images: int,
            iters: int) -> dict:
    config = demo_config(job)
    work_dir = osp.join(work_root, job)
    amp_flag = ['--amp'] if amp else []
    say(f'{job}: training on {gpus} process(es){" with --amp" if amp else ""}')
    start = time.perf_counter()
    launch(
        'dist_train.sh',
        config,
        gpus,
        '--work-dir',
        work_dir,
        '--no-validate',
        *amp_flag,
        '--cfg-options',
        *shortened(job, images, iters),
        log=osp.join(work_root, f'{job}_train.log'))
    train_seconds = time.perf_counter() - start
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    say(f'{job}: testing {osp.basename(checkpoint)}')
    launch(
        'dist_test.sh',
        config,
        checkpoint,
        gpus,
        '--work-dir',
        osp.join(work_dir, 'test'),
        *(['--cfg-options', *TEST_OPTIONS[job]]
          if job in TEST_OPTIONS else []),
        log=osp.join(work_root, f'{job}_test.log'))
    with open(osp.join(work_dir, 'test', 'metrics.json')) as f:
        metrics = json.load(f)
    figures = dict(
        config=DEMOS[job],
        train_seconds=round(train_seconds, 1),
        **train_figures(work_dir),
        metrics=metrics)
    say(f'{job}: {figures}')
    return figures


def stop_and_resume(gpus: int, amp: bool, work_root: str) -> dict:
    """DeepLabv3 for 40 iterations, SIGTERM after the 10th, then --resume:
    where it stopped and whether it finished."""
    config, work_dir = demo_config('deeplabv3'), osp.join(work_root, 'resumed')
    options = [
        *(['--amp'] if amp else []), '--cfg-options',
        *shortened('deeplabv3', 0, 40), 'default_hooks.logger.interval=1'
    ]
    log = osp.join(work_root, 'resumed_train.log')
    say('deeplabv3: training, to be stopped by SIGTERM after iteration 10')
    with open(log, 'w') as out:
        process = subprocess.Popen([
            'bash',
            osp.join(ROOT, 'tools/dist_train.sh'), config,
            str(gpus), '--work-dir', work_dir, *options
        ],
                                   stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.time() + 900
    while process.poll() is None and time.time() < deadline:
        if any(r.get('iter', 0) >= 10 for r in scalars(work_dir)):
            break
        time.sleep(0.5)
    sent = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait()
    exit_seconds = time.perf_counter() - sent
    stopped = sorted(glob.glob(osp.join(work_dir, 'preempted_iter_*.pth')))
    if not stopped:
        raise SystemExit(f'SIGTERM left no preempted_iter_*.pth; see {log}')
    say(f'deeplabv3: stopped with {osp.basename(stopped[-1])} in '
        f'{exit_seconds:.1f} s; resuming')
    launch(
        'dist_train.sh',
        config,
        gpus,
        '--work-dir',
        work_dir,
        '--resume',
        *options,
        log=osp.join(work_root, 'resumed_resume.log'))
    return dict(
        stopped_at=osp.basename(stopped[-1]),
        exit_seconds=round(exit_seconds, 1),
        finished=osp.isfile(osp.join(work_dir, 'iter_40.pth')))


def versions() -> dict:
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain
    import mmseg
    from mmcv.ops import get_compiling_cuda_version
    found = dict(
        python=sys.version.split()[0],
        torch=torch.__version__,
        cuda=torch.version.cuda,
        mmcv=mmcv.__version__,
        mmcv_ops_cuda=get_compiling_cuda_version(),
        mmengine=mmengine.__version__,
        mmdet=mmdet.__version__,
        mmseg=mmseg.__version__,
        mmpretrain=mmpretrain.__version__,
        device=(torch.cuda.get_device_name(0)
                if torch.cuda.is_available() else 'cpu'))
    if torch.cuda.is_available():
        from mmcv.ops import nms, roi_align
        boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]]).cuda()
        kept = nms(boxes, torch.tensor([0.9, 0.8]).cuda(), 0.5)[1]
        rois = torch.tensor([[0., 0., 0., 4., 4.]]).cuda()
        pooled = roi_align(torch.rand(1, 2, 8, 8).cuda(), rois, (2, 2))
        found['mmcv_ops_on_cuda'] = (kept.tolist() == [0] and pooled.is_cuda)
    return found


def table(results: dict) -> str:
    lines = [
        '| job | s / iter | peak memory (MiB) | metrics |', '|---|---|---|---|'
    ]
    for job, figures in results.items():
        metrics = ', '.join(f'{k} {v:.3f}'
                            for k, v in figures['metrics'].items())
        lines.append(f'| {job} | {figures["seconds_per_iter"]} | '
                     f'{figures["peak_memory_mib"]} | {metrics} |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--gpus', type=int, help='processes (default: GPUs)')
    parser.add_argument('--out', default='work_dirs/gpu_smoke/smoke.json')
    parser.add_argument('--work-dir', default='work_dirs/gpu_smoke')
    parser.add_argument(
        '--images', type=int, default=64, help='training images per job')
    parser.add_argument(
        '--iters', type=int, default=20, help='DeepLabv3 iterations')
    parser.add_argument(
        '--jobs', nargs='+', choices=list(DEMOS), default=list(DEMOS))
    parser.add_argument('--no-resume', action='store_true')
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    gpus = args.gpus or (torch.cuda.device_count() if cuda else 1)
    work_root = osp.abspath(args.work_dir)
    os.makedirs(work_root, exist_ok=True)
    if not osp.isdir('data/toy/ade20k'):
        subprocess.run([sys.executable, '-m', 'mmdualtoken.toy_data'],
                       check=True,
                       env={
                           **os.environ, 'PYTHONPATH': ROOT
                       })
    report = dict(versions=versions(), processes=gpus, amp=cuda, jobs={})
    say(f'{report["versions"]}')
    for job in args.jobs:
        report['jobs'][job] = run_job(job, gpus, cuda, work_root, args.images,
                                      args.iters)
    if not args.no_resume:
        report['stop_and_resume'] = stop_and_resume(gpus, cuda, work_root)
    print(table(report['jobs']))
    if 'stop_and_resume' in report:
        print(f'stop and resume: {report["stop_and_resume"]}')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
    say(f'saved {args.out}')


if __name__ == '__main__':
    main()
