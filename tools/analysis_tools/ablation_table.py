"""Params and FLOPs of the paper's ablations, next to the deltas it reports.

    python tools/analysis_tools/ablation_table.py

Each row is a config of configs/classification/ (the ablations are short
diffs under ablations/), counted at 224x224 with attention included. The
deltas are against the row the paper chose (the default); the paper's
column quotes what it reports for the same comparison (pp. 5-7 of arXiv
2309.12424).
"""
import argparse
import os.path as osp
import sys
import warnings
from typing import Dict, List, Tuple

from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Run this checkout's mmdualtoken, even where another one is installed.
sys.path.insert(0, ROOT)
from mmdualtoken.analysis import get_config_complexity

S = 'dualtoken-vit-s_8xb128_in1k.py'
S_MIX = 'dualtoken-vit-s-mix_8xb128_in1k.py'
# (ablation, row, config, paper's delta against the ablation's first row)
ABLATIONS: List[Tuple[str, str, str, str]] = [
    ('global tokens', 'position-aware (default)', S, ''),
    ('global tokens', 'normal, by attention',
     'ablations/dualtoken-vit-s_global-attention_8xb128_in1k.py',
     '+1.1 M, -0.06 G, lower top-1'),
    ('local branch', 'Conv Encoder (default)', S, ''),
    ('local branch', '7x7 window attention',
     'ablations/dualtoken-vit-s_window-attention_8xb128_in1k.py',
     'a little less, -0.8 % top-1'),
    ('downsampling, S mix', 'step-wise (default)', S_MIX, ''),
    ('downsampling, S mix', 'one-step',
     'ablations/dualtoken-vit-s-mix_one-step_8xb128_in1k.py',
     '-0.1 M, -0.03 G, -0.2 % top-1'),
    ('token grid', '7x7 (default)', S, ''),
    ('token grid', '3x3', 'ablations/dualtoken-vit-s_grid-3x3_8xb128_in1k.py',
     'lower top-1'),
    ('token grid', '14x14',
     'ablations/dualtoken-vit-s_grid-14x14_8xb128_in1k.py', 'lower top-1'),
    ('global-token MLP', 'channel MLP (default)', S, ''),
    ('global-token MLP', 'token mixing (S mix)', S_MIX,
     'a little less, -0.1 % top-1'),
]


def main() -> None:
    argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0]).parse_args()
    warnings.filterwarnings('ignore')
    MMLogger.get_instance('ablation_table', log_level='WARNING')
    counted: Dict[str, dict] = {}
    print(f'{"ablation":<20} {"row":<26} {"params (M)":>10} {"FLOPs (G)":>9}'
          f' {"d params":>9} {"d FLOPs":>8}  paper\'s delta')
    reference = None
    for ablation, row, config, paper in ABLATIONS:
        if config not in counted:
            counted[config] = get_config_complexity(
                osp.join(ROOT, 'configs/classification', config))
        result = counted[config]
        if not paper:
            reference = result
        params = (result['params'] - reference['params']) / 1e6
        flops = (result['flops'] - reference['flops']) / 1e9
        print(f'{ablation:<20} {row:<26} {result["params"] / 1e6:>10.2f} '
              f'{result["flops"] / 1e9:>9.3f} {params:>+9.2f} {flops:>+8.3f}'
              f'  {paper or "-"}')


if __name__ == '__main__':
    main()
