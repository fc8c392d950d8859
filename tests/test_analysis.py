from pathlib import Path

import pytest

from mmdualtoken.analysis import get_config_complexity

CONFIG_DIR = Path(__file__).parents[1] / 'configs' / 'classification'
CONFIGS = {
    'dt_vit_t_8xb128_in1k': 0.50e9,
    'dt_vit_s_8xb128_in1k': 1.00e9,
}


@pytest.mark.parametrize('name,target', CONFIGS.items())
def test_zoo_flops_within_5_percent_of_the_paper(name, target):
    result = get_config_complexity(str(CONFIG_DIR / f'{name}.py'))
    assert abs(result['flops'] / target - 1) <= 0.05, result


def test_mix_variants_cost_a_little_less_than_normal():
    for size in ('t', 's'):
        normal = get_config_complexity(
            str(CONFIG_DIR / f'dt_vit_{size}_8xb128_in1k.py'))
        mix = get_config_complexity(
            str(CONFIG_DIR / f'dt_vit_{size}-mix_8xb128_in1k.py'))
        assert 0.8 * normal['flops'] < mix['flops'] < normal['flops']

