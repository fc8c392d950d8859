import re
from pathlib import Path

import pytest
from helpers import REPO, run_tool

from mmdualtoken.analysis import get_config_complexity

CONFIG_DIR = Path(__file__).parents[1] / 'configs' / 'classification'
CONFIGS = {
    'dualtoken-vit-t_8xb128_in1k': 0.50e9,
    'dualtoken-vit-s_8xb128_in1k': 1.00e9,
}
ALL_CONFIGS = sorted(
    p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


@pytest.mark.parametrize('name,target', CONFIGS.items())
def test_zoo_flops_within_5_percent_of_the_paper(name, target):
    result = get_config_complexity(str(CONFIG_DIR / f'{name}.py'))
    assert abs(result['flops'] / target - 1) <= 0.05, result


def test_mix_variants_cost_a_little_less_than_normal():
    for size in ('t', 's'):
        normal = get_config_complexity(
            str(CONFIG_DIR / f'dualtoken-vit-{size}_8xb128_in1k.py'))
        mix = get_config_complexity(
            str(CONFIG_DIR / f'dualtoken-vit-{size}-mix_8xb128_in1k.py'))
        assert 0.8 * normal['flops'] < mix['flops'] < normal['flops']


@pytest.mark.parametrize(
    'config', ALL_CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_flops_of_every_config_need_no_weights(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no checkpoints/ here
    result = get_config_complexity(str(config))
    assert result['flops'] > 0.4e9 and result['params'] > 4e6, result


@pytest.mark.parametrize(
    'config',
    sorted((REPO / 'configs/detection').glob('*_coco.py')),
    ids=lambda p: p.stem)
def test_detection_flops_at_800x1333(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = get_config_complexity(str(config))
    large = get_config_complexity(str(config), (3, 800, 1333))
    assert large['params'] == small['params']
    # The RoI heads cost the same per proposal at any size; the rest grows.
    assert large['flops'] > 1.5 * small['flops']


def test_get_flops_tool_counts_mask_rcnn_at_800x1333(tmp_path):
    config = REPO / 'configs/detection/maskrcnn_dt_vit_1x.py'
    output = run_tool(tmp_path, 'tools/analysis_tools/get_flops.py', config,
                      '--shape', 800, 1333).stdout
    params, flops = re.search(r'maskrcnn_dt_vit_1x\s+([\d.]+)\s+([\d.]+)',
                              output).groups()
    small = get_config_complexity(str(config))
    assert float(params) == pytest.approx(small['params'] / 1e6, abs=0.01)
    assert float(flops) > 1.5 * small['flops'] / 1e9


def test_ablation_table_prints_every_row_with_its_delta(tmp_path):
    output = run_tool(tmp_path,
                      'tools/analysis_tools/ablation_table.py').stdout
    rows = {}
    for line in output.splitlines()[1:]:
        match = re.match(
            r'(.{20}) (.{26}) +([\d.]+) +([\d.]+) +([+-][\d.]+)'
            r' +([+-][\d.]+)', line)
        assert match, line
        rows[match.group(2).strip()] = [float(v) for v in match.groups()[2:]]
    assert len(rows) == 11
    default_params, default_flops = rows['position-aware (default)'][:2]
    # Against the paper's choice, as the paper reports its deltas.
    one_step = rows['one-step']
    assert one_step[2] < 0 and one_step[3] < 0
    assert rows['14x14'][3] > 0 > rows['3x3'][3]
    window = rows['7x7 window attention']
    assert window[0] == pytest.approx(default_params + window[2], abs=0.02)
    assert rows['Conv Encoder (default)'][:2] == [
        default_params, default_flops
    ]
