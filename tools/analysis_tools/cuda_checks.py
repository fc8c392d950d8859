"""Checks that DualToken-ViT trains and infers correctly on a CUDA device.

Usage:
    python tools/analysis_tools/cuda_checks.py [--arch s]

Each check prints one line, PASS or FAIL with its figures:
- the forward on CUDA equals the CPU forward (fp32, eval);
- bf16 autocast outputs stay close to fp32;
- ``torch.compile(fullgraph=True)`` compiles the backbone and matches eager;
- an AMP training step (fp16 autocast + GradScaler) gives finite gradients
  on every parameter;
- SyncBN: the backbone converted with ``SyncBatchNorm`` trains a step in a
  one-process NCCL group and matches BatchNorm's output.
Exits 1 if any check fails.
"""
import argparse
import os
import os.path as osp
import sys
import traceback

import torch
import torch.distributed as dist

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.models import DualTokenViT


def relative_error(out, ref) -> float:
    return max(((a.float() - b.float()).norm() / b.float().norm()).item()
               for a, b in zip(out, ref))


def check_matches_cpu(arch):
    model = DualTokenViT(arch, out_indices=(0, 1, 2)).eval()
    x = torch.randn(4, 3, 224, 224)
    backends = torch.backends
    tf32 = backends.cudnn.allow_tf32, backends.cuda.matmul.allow_tf32
    # Plain fp32 on both sides: TF32 convolutions would round at 1e-3.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            ref = model(x)
            out = model.cuda()(x.cuda())
    finally:
        backends.cudnn.allow_tf32, backends.cuda.matmul.allow_tf32 = tf32
    error = relative_error([o.cpu() for o in out], ref)
    return error < 1e-4, f'relative error vs CPU {error:.1e}'


def check_bf16(arch):
    model = DualTokenViT(arch, out_indices=(0, 1, 2)).cuda().eval()
    x = torch.randn(8, 3, 224, 224, device='cuda')
    with torch.no_grad():
        ref = model(x)
        with torch.autocast('cuda', dtype=torch.bfloat16):
            out = model(x)
    error = relative_error(out, ref)
    return error < 3e-2, f'relative error vs fp32 {error:.1e}'


def check_compile(arch):
    model = DualTokenViT(arch, out_indices=(0, 1, 2)).cuda().eval()
    x = torch.randn(8, 3, 224, 224, device='cuda')
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        error = relative_error(compiled(x), model(x))
        odd = compiled(torch.randn(2, 3, 225, 301, device='cuda'))
    shapes = [tuple(o.shape[-2:]) for o in odd]
    return (error < 1e-3 and shapes == [(29, 38), (15, 19), (8, 10)],
            f'relative error vs eager {error:.1e}; 225x301 -> {shapes}')


def check_amp_step(arch):
    model = DualTokenViT(arch).cuda().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    # torch.amp.GradScaler('cuda') is new in torch 2.3.
    scaler = (
        torch.amp.GradScaler('cuda')
        if hasattr(torch.amp, 'GradScaler') else torch.cuda.amp.GradScaler())
    x = torch.randn(8, 3, 224, 224, device='cuda')
    with torch.autocast('cuda', dtype=torch.float16):
        loss = model(x)[-1].float().pow(2).mean()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    missing = [
        n for n, p in model.named_parameters()
        if p.grad is None or not torch.isfinite(p.grad).all()
    ]
    scaler.step(optimizer)
    scaler.update()
    return not missing, (f'loss {loss.item():.4f}; parameters without a '
                         f'finite gradient: {missing[:3] or "none"}')


def check_sync_bn(arch):
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29517')
    dist.init_process_group('nccl', rank=0, world_size=1)
    try:
        model = DualTokenViT(arch, norm_cfg=dict(type='BN')).cuda().train()
        synced = DualTokenViT(arch, norm_cfg=dict(type='SyncBN')).cuda()
        synced.load_state_dict(model.state_dict())
        synced.train()
        x = torch.randn(4, 3, 224, 224, device='cuda')
        out, ref = synced(x), model(x)
        out[-1].mean().backward()
        error = relative_error(out, ref)
        kinds = {
            type(m).__name__
            for m in synced.modules() if 'BatchNorm' in type(m).__name__
        }
        return (error < 1e-4 and kinds == {'SyncBatchNorm'},
                f'{kinds}; relative error vs BatchNorm {error:.1e}')
    finally:
        dist.destroy_process_group()


CHECKS = dict(
    matches_cpu=check_matches_cpu,
    bf16=check_bf16,
    amp_step=check_amp_step,
    sync_bn=check_sync_bn,
    compile=check_compile)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default='s')
    parser.add_argument(
        '--checks', nargs='+', choices=list(CHECKS), default=list(CHECKS))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit('No CUDA device is visible: run this on a GPU machine.')
    print(f'{torch.cuda.get_device_name()}; torch {torch.__version__}; '
          f'CUDA {torch.version.cuda}')
    torch.manual_seed(0)
    failed = 0
    for name in args.checks:
        check = CHECKS[name]
        try:
            ok, detail = check(args.arch)
        except Exception:
            ok, detail = False, traceback.format_exc(limit=3)
        failed += not ok
        print(f'{"PASS" if ok else "FAIL"} {name}: {detail}', flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
