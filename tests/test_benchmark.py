"""The benchmark's machinery: it runs, alternates the models, reports
ratios and the fraction of the matmul rate. No timing is asserted."""
import json
import os

import pytest
import torch
from helpers import REPO, RETINANET_DEMO, SEG_DEMO, run_tool, tool_module
from torch import nn

benchmark = tool_module('tools/analysis_tools/benchmarking.py')


def tiny(name, shape):
    width = {'narrow': 4, 'wide': 16}[name]
    return nn.Sequential(
        nn.Conv2d(3, width, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)).eval()


def test_rounds_alternate_the_models():
    lines = []
    settings = benchmark.Settings(
        batch_size=2,
        shape=(32, 32),
        rounds=3,
        warmup=1,
        latency_runs=2,
        min_round_seconds=0)
    results = benchmark.run(['narrow', 'wide'],
                            settings,
                            lines.append,
                            builder=tiny)
    rounds = [line for line in lines if line.startswith('round')]
    assert rounds == [
        f'round {r}/3: {name}' for r in (1, 2, 3)
        for name in ('narrow', 'wide')
    ]
    for result in results:
        assert len(result.throughput) == 3 and len(result.latency) == 3
        assert all(rate > 0 for rate in result.throughput)
    wide = results[1]
    assert wide.params == 3 * 16 * 9 + 16
    assert wide.flops == 30 * 30 * 16 * 27 + 30 * 30 * 16  # conv + pooling

    rates = {'fp32': benchmark.matmul_rate(settings, seconds=0.05)}
    assert rates['fp32'] > 1e8
    text = benchmark.table(results, 'wide', settings, rates)
    rows = {
        line.split('|')[1].strip(): line.split('|')
        for line in text.splitlines()[2:]
    }
    assert rows['wide'][6].strip() == '1.00x'
    ratio = results[0].median_throughput() / wide.median_throughput()
    assert rows['narrow'][6].strip() == f'{ratio:.2f}x'
    achieved = 100 * wide.flops_per_second() / rates['fp32']
    assert rows['wide'][10].strip() == f'{achieved:.0f} %'
    # Without batch-1 runs (--latency-runs 0) the latency reads '-'.
    for result in results:
        result.latency = []
    row = benchmark.table(results, 'wide', settings, rates).splitlines()[2]
    assert row.split('|')[7:9] == [' - ', ' - ']


def test_cli_compares_ours_with_a_timm_peer(tmp_path):
    pytest.importorskip('timm')
    out = tmp_path / 'bench.json'
    result = run_tool(tmp_path, 'tools/analysis_tools/benchmark.py',
                      'dualtoken-vit-t-backbone', 'efficientvit_b1',
                      '--reference', 'dualtoken-vit-t-backbone',
                      '--batch-size', 2, '--shape', 64, 64, '--rounds', 2,
                      '--latency-runs', 1, '--profile', '--out', out)
    assert 'matrix-product rate: fp32' in result.stdout
    assert 'profile of efficientvit_b1: ' in result.stdout
    rows = [
        line for line in result.stdout.splitlines()
        if line.startswith('| dualtoken') or line.startswith('| eff')
    ]
    assert len(rows) == 2 and '| 1.00x |' in rows[0]
    saved = json.loads(out.read_text())
    assert [r['name'] for r in saved['results']
            ] == ['dualtoken-vit-t-backbone', 'efficientvit_b1']
    assert all(len(r['throughput']) == 2 for r in saved['results'])
    assert saved['results'][0]['flops'] > 0
    assert saved['results'][0]['profile']['kernels_per_forward'] > 10
    assert saved['matmul_flops_per_second']['fp32'] > 0


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match='ours are'):
        benchmark.build('dualtoken-vit-xl', (224, 224))
    pytest.importorskip('timm')
    with pytest.raises(ValueError, match='timm has no model'):
        benchmark.build('no_such_model_anywhere', (224, 224))


def test_our_classifier_is_the_imagenet_config():
    model = benchmark.build('dualtoken-vit-t', (224, 224))
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 224, 224))
    assert logits.shape == (1, 1000)
    assert benchmark.our_classifier_config('s').startswith(str(REPO))


def test_training_benchmark_compares_configs_of_each_task(tmp_path):
    """Detection and segmentation configs alternate; each is compared with
    the first config of its task."""
    out = tmp_path / 'train.json'
    configs = [
        RETINANET_DEMO, SEG_DEMO,
        SEG_DEMO.with_name(SEG_DEMO.name.replace('deeplabv3', 'pspnet'))
    ]
    result = run_tool(tmp_path, 'tools/analysis_tools/benchmark_train.py',
                      *configs, '--shape', 96, 96, '--rounds', 2, '--dtype',
                      'bf16', '--out', out)
    assert '; bf16, eager' in result.stdout
    rows = {
        line.split('|')[1].strip(): line.split('|')
        for line in result.stdout.splitlines()
        if line.startswith('| ') and '_toy-' in line
    }
    assert set(rows) == {path.stem for path in configs}
    assert rows['retinanet_dualtoken-vit-t_fpn_1xb8-8e_toy-coco'][5].strip(
    ) == '1.00x'
    assert rows['deeplabv3_dualtoken-vit-t_1xb8-400_toy-ade20k-96x96'][
        5].strip() == '1.00x'
    saved = json.loads(out.read_text())
    assert [r['task'] for r in saved['results']] == ['mmdet', 'mmseg', 'mmseg']
    assert all(
        len(r['seconds']) == 2 and min(r['seconds']) > 0
        for r in saved['results'])


def test_a_model_file_registers_models_in_timm(tmp_path):
    pytest.importorskip('timm')
    path = tmp_path / 'my_models.py'
    path.write_text('from timm.models import register_model\n'
                    'from torch import nn\n\n'
                    '@register_model\n'
                    'def benchmark_test_net(pretrained=False):\n'
                    '    return nn.Sequential(nn.Conv2d(3, 5, 3),\n'
                    '                         nn.AdaptiveAvgPool2d(1))\n')
    with pytest.raises(FileNotFoundError, match='--model-file'):
        benchmark.register_model_file(str(tmp_path / 'missing.py'))
    benchmark.register_model_file(str(path))
    model = benchmark.build('benchmark_test_net', (32, 32))
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 5, 1, 1)


def test_inductor_counts_kernels_and_bytes_without_printing_them(capfd):
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GELU(), nn.LayerNorm(30))
    counts = benchmark.inductor_counts(model, (32, 32), batch_size=2)
    assert counts['kernels'] >= 1
    # At least the output (8 x 30 x 30 floats) is written per image.
    assert counts['bytes_per_image'] >= 8 * 30 * 30 * 4
    # The convolution (a library kernel) and the generated GELU + norm.
    assert counts['calls'] >= 2
    assert 'inductor_metrics' not in capfd.readouterr().err


def test_a_compile_mode_compiles_with_it():
    settings = benchmark.Settings(compile=True, compile_mode='reduce-overhead')
    model = nn.Linear(4, 2).eval()
    forward = benchmark._prepare(model, settings)
    x = torch.randn(3, 4)
    with torch.no_grad():
        torch.testing.assert_close(forward(x), model(x))
    assert 'torch.compile (reduce-overhead)' in benchmark.describe_machine(
        settings)
    # The mode reaches torch.compile, which checks it.
    settings.compile_mode = 'no-such-mode'
    with pytest.raises(RuntimeError, match='no-such-mode'):
        benchmark._prepare(model, settings)


def test_profile_ranks_the_kernels_and_counts_them():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GELU(),
                          nn.LayerNorm(30)).eval()
    profiled = benchmark.profile_kernels(model, torch.randn(2, 3, 32, 32),
                                         benchmark.Settings())
    # Three ops per forward; the convolution counts as a matrix product.
    assert profiled['kernels_per_forward'] == 3
    names = [kernel['name'] for kernel in profiled['top']]
    assert sorted(names) == ['aten::conv2d', 'aten::gelu', 'aten::layer_norm']
    shares = [kernel['share'] for kernel in profiled['top']]
    assert shares == sorted(shares, reverse=True)
    assert abs(sum(shares) - 1) < 1e-6
    conv_share = shares[names.index('aten::conv2d')]
    assert abs(profiled['matmul_share'] - conv_share) < 1e-6
    summary = benchmark.profile_summary(
        benchmark.Result('tiny', profile=profiled))
    assert summary.startswith('profile of tiny: 3 kernels per forward')


def test_matmul_kernels_are_told_from_fused_memory_bound_ones():
    for name in ('aten::linear', 'aten::conv2d', 'sm90_xmma_gemm_bf16bf16',
                 'void cutlass::Kernel2<cutlass_80_wmma>',
                 'pytorch_flash::flash_fwd_kernel', 'triton_tem_fused_mm_3'):
        assert benchmark.is_matmul_kernel(name), name
    for name in ('triton_poi_fused_convolution_gelu_0',
                 'triton_red_fused_native_layer_norm_2',
                 'cpp_fused_convolution_gelu_1', 'aten::gelu'):
        assert not benchmark.is_matmul_kernel(name), name


def test_imagenet_cost_of_a_training_rate():
    # 1,281,167 images x 300 epochs at 128 images per 0.1 s.
    hours = benchmark.imagenet_gpu_hours(0.1, 128)
    assert abs(hours - 1_281_167 * 300 / 1280 / 3600) < 1e-9
    result = benchmark.TrainResult(
        'cls',
        params=10**6,
        task='mmpretrain',
        seconds=[0.1],
        peak_memory=2**20)
    row = benchmark.training_table([result], batch_size=128).splitlines()[2]
    assert row.split('|')[7].strip() == f'{hours:,.0f}'


@pytest.mark.e2e  # two minutes of compiling on the CPU
def test_compiled_training_compiles_nothing_in_its_timed_rounds():
    """The model's forward and loss are compiled in the warm-up; the data
    preprocessor's random Mixup / CutMix stays eager, so no timed step
    compiles again."""
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    settings = benchmark.Settings(
        shape=(32, 32), batch_size=2, rounds=3, compile=True)
    compiled_before_rounds = []

    def progress(line):
        if line.startswith('round 1/'):
            compiled_before_rounds.append(counters['stats']['unique_graphs'])

    config = benchmark.our_classifier_config('t')
    results = benchmark.run_training([config], settings, progress)
    torch._dynamo.reset()
    assert compiled_before_rounds[0] > 0
    assert counters['stats']['unique_graphs'] == compiled_before_rounds[0]
    assert len(results[0].seconds) == 3


def test_deploy_measures_every_model_in_its_inference_form():
    from mmdualtoken.models.layers.norms import TokenBatchNorm

    def count(model, kind):
        return sum(isinstance(m, kind) for m in model.modules())

    ours = benchmark.build('dualtoken-vit-t-bn-backbone', (64, 64))
    assert count(ours, TokenBatchNorm) > 0
    assert count(benchmark.deploy_form(ours), TokenBatchNorm) == 0
    assert os.path.isfile(benchmark.our_classifier_config('s-bn'))
    timm = pytest.importorskip('timm')
    peer = timm.create_model('repvit_m0_9').eval()
    batchnorms = count(peer, nn.BatchNorm2d)
    assert count(benchmark.deploy_form(peer), nn.BatchNorm2d) < batchnorms


def test_runtimes_are_measured_in_one_run_one_process_at_a_time(tmp_path):
    """--runtime: every model exported to each runtime, checked against
    PyTorch, timed at two batch sizes in alternating rounds; the JSON says
    each result's runtime and precision. A model a runtime cannot load
    (here a spoilt export) gets a row that says why; the others run."""
    pytest.importorskip('openvino')
    out = tmp_path / 'runtimes.json'
    (tmp_path / 'exports').mkdir()
    for batch in (1, 2):
        (tmp_path / f'exports/dualtoken-vit-t_b{batch}.xml').write_text('<')
    result = run_tool(tmp_path, 'tools/analysis_tools/benchmark.py',
                      'dualtoken-vit-t-backbone', 'dualtoken-vit-t',
                      '--runtime', 'torch,openvino', '--threads', 1,
                      '--batch-size', 2, '--shape', 64, 64, '--rounds', 2,
                      '--latency-runs', 1, '--reference',
                      'dualtoken-vit-t-backbone', '--export-dir',
                      tmp_path / 'exports', '--out', out)
    saved = json.loads(out.read_text())
    spoilt = [r for r in saved['results'] if r['model'] == 'dualtoken-vit-t']
    saved['results'] = [r for r in saved['results'] if r not in spoilt]
    runtimes = [(r['runtime'], r['precision']) for r in saved['results']]
    assert runtimes[:2] == [('torch', 'f32'), ('openvino', 'f32')]
    assert set(runtimes[2:]) <= {('openvino-bf16', 'bf16')}
    for r in saved['results']:
        assert len(r['throughput']) == len(r['latency']) == 2
    assert len(spoilt[0]['throughput']) == 2 and not spoilt[0]['error']
    assert all(r['error'].startswith('load: ') for r in spoilt[1:])
    assert '| dualtoken-vit-t | openvino | f32 | not run: load: ' in (
        result.stdout)
    assert saved['results'][1]['difference'] <= 1e-4
    assert (tmp_path / 'exports/dualtoken-vit-t-backbone_b2.xml').is_file()
    assert '| dualtoken-vit-t-backbone | openvino | f32 |' in result.stdout
    assert saved['threads'] == 1 and saved['cpu']
