"""Configs that name the ImageNet checkpoint: a clear stop before any work
when it is missing, and the ways forward working."""
from helpers import REPO, run_tool
from mmengine.config import Config

from mmdualtoken.cli.config import load_config
from mmdualtoken.cli.train import parse_args

MASK_RCNN = REPO / 'configs/detection/maskrcnn_dt_vit_1x.py'
DEEPLAB = (
    REPO / 'configs/segmentation' /
    'deeplabv3_dualtoken-vit-t_4xb4-80k_ade20k-512x512.py')


def test_missing_checkpoint_stops_before_work_with_both_ways_forward(tmp_path):
    result = run_tool(tmp_path, 'tools/train.py', MASK_RCNN, check=False)
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    message = result.stderr
    assert "'checkpoints/dualtoken-vit-s_8xb128_in1k.pth'" in message
    assert (
        'tools/dist_train.sh '
        'configs/classification/dualtoken-vit-s_8xb128_in1k.py 8') in message
    assert '--cfg-options pretrained=None' in message
    assert not (tmp_path / 'work_dirs').exists()  # nothing started


def test_pretrained_option_reaches_the_backbone():
    args = parse_args([str(DEEPLAB), '--cfg-options', 'pretrained=None'])
    assert args.cfg_options == {'pretrained': None}
    scratch = load_config(str(DEEPLAB), args.cfg_options)
    assert scratch.model.backbone.init_cfg is None

    scratch = load_config(str(MASK_RCNN), {'pretrained': None})
    assert scratch.model.backbone.init_cfg is None
    assert scratch.model.backbone.norm_eval is False
    assert Config.fromfile(str(MASK_RCNN)).model.backbone.norm_eval is True

    other = load_config(str(MASK_RCNN), {'pretrained': 'mine.pth'})
    assert other.model.backbone.init_cfg.checkpoint == 'mine.pth'
    assert other.model.backbone.init_cfg.prefix == 'backbone.'
