"""Wrong input stops before work with one line that names the file or the
key and says what to change; our errors print without a traceback unless
asked (--debug). The tools run in this process here (mmdualtoken.cli)."""
import json
import os
import shutil

import numpy as np
import pytest
import torch
from helpers import CLS_DEMO, MASK_RCNN_DEMO, REPO, SEG_DEMO, make_toy
from PIL import Image

from mmdualtoken.apis import init_model
from mmdualtoken.cli import run
from mmdualtoken.cli import test as test_cli
from mmdualtoken.cli import train as train_cli
from mmdualtoken.errors import ConfigError


def stops(main, *argv) -> str:
    """The one line a command exits with."""
    with pytest.raises(SystemExit) as stop:
        run(main, [str(a) for a in argv])
    message = str(stop.value.code)
    assert message.startswith('error: ') and '\n' not in message, message
    return message


@pytest.fixture
def data(toy_root, tmp_path, monkeypatch):
    """A copy of the toy data to spoil, as the working directory."""
    for task, name in (('cls', 'imagenet'), ('det', 'coco'), ('seg',
                                                              'ade20k')):
        make_toy(toy_root, task)
        shutil.copytree(toy_root / 'data/toy' / name,
                        tmp_path / 'data/toy' / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path / 'data/toy'


def test_options_that_cannot_work_stop_naming_the_key(data, tmp_path):
    work = ['--work-dir', tmp_path / 'run']
    assert "did you mean 'max_epochs'?" in stops(train_cli.main, CLS_DEMO,
                                                 *work, '--cfg-options',
                                                 'train_cfg.max_epoch=2')
    assert "did you mean 'drop_path_rate'?" in stops(
        train_cli.main, CLS_DEMO, *work, '--cfg-options',
        'model.backbone.drop_path=0.2')
    assert 'train_cfg.max_epochs=-1: must be a positive' in stops(
        train_cli.main, CLS_DEMO, *work, '--cfg-options',
        'train_cfg.max_epochs=-1')
    assert 'train_dataloader.batch_size=0: must be at least 1' in stops(
        train_cli.main, CLS_DEMO, *work, '--cfg-options',
        'train_dataloader.batch_size=0')
    assert 'drop_path_rate must be in [0, 1)' in stops(
        train_cli.main, CLS_DEMO, *work, '--cfg-options',
        'model.backbone.drop_path_rate=1.5')
    (tmp_path / 'a_file').write_text('')
    assert 'is a file, not a folder' in stops(train_cli.main, CLS_DEMO,
                                              '--work-dir',
                                              tmp_path / 'a_file')
    assert ("train_dataloader.dataset.data_root: 'data/toy/imagenet/meta/"
            "train.txt' is a file, not a folder") in stops(
                train_cli.main, CLS_DEMO, *work, '--cfg-options',
                'train_dataloader.dataset.data_root='
                'data/toy/imagenet/meta/train.txt')
    assert not list(tmp_path.rglob('*.pth'))  # nothing trained


def test_a_dict_option_is_read_as_python(data, tmp_path):
    missing = tmp_path / 'missing.pth'
    message = stops(
        train_cli.main, MASK_RCNN_DEMO, '--work-dir', tmp_path / 'run',
        '--cfg-options', f"model.backbone.init_cfg=dict(type='Pretrained', "
        f"checkpoint='{missing}', prefix='backbone.')")
    assert f"ImageNet checkpoint '{missing}'" in message.replace('\n', ' ')


def test_a_checkpoint_of_another_variant_stops_before_training(data, tmp_path):
    t_weights = tmp_path / 't.pth'
    torch.save(
        dict(state_dict=init_model(str(CLS_DEMO)).state_dict()), t_weights)
    s_options = ['model.backbone.arch=s', 'model.neck.in_channels=256']
    for flag in (['--cfg-options', f'load_from={t_weights}', *s_options],
                 ['--resume', t_weights, '--cfg-options', *s_options]):
        message = stops(train_cli.main, CLS_DEMO, '--work-dir',
                        tmp_path / 'run', *flag)
        assert 'does not fit the model of this config' in message
        assert 'T vs S' in message
    assert not list((tmp_path / 'run').glob('*.pth'))


def test_spoilt_coco_files_stop_naming_the_annotation(data, tmp_path):
    train = data / 'coco/annotations/instances_train2017.json'
    content = json.loads(train.read_text())
    content['annotations'][5]['category_id'] = 99
    train.write_text(json.dumps(content))
    message = stops(train_cli.main, MASK_RCNN_DEMO, '--work-dir',
                    tmp_path / 'run')
    assert 'instances_train2017.json: annotation' in message
    assert 'category_id 99' in message

    content['annotations'][5]['category_id'] = 1
    train.write_text(json.dumps(content))
    val = data / 'coco/annotations/instances_val2017.json'
    content = json.loads(val.read_text())
    content['annotations'][0]['segmentation'] = [[1.0, 1.0, 9.0, 9.0]]
    val.write_text(json.dumps(content))
    # The validation set is checked before training, not after it.
    message = stops(train_cli.main, MASK_RCNN_DEMO, '--work-dir',
                    tmp_path / 'run')
    assert 'a polygon of 2 points' in message
    assert not list((tmp_path / 'run').glob('*.pth'))


@pytest.mark.parametrize(
    'spoil, expected', [
        (lambda m: np.where(m > 0, 199, m), 'holds label 198'),
        (lambda m: np.stack([m] * 3, -1), 'has 3 channels'),
    ],
    ids=['label above the class count', 'RGB map'])
def test_spoilt_label_maps_stop_naming_the_file(data, tmp_path, spoil,
                                                expected):
    for label in sorted((data / 'ade20k/annotations/training').iterdir()):
        Image.fromarray(spoil(np.asarray(Image.open(label))).astype(
            np.uint8)).save(label)
    message = stops(train_cli.main, SEG_DEMO, '--work-dir', tmp_path / 'run')
    assert expected in message and 'ADE_train_' in message


def test_an_empty_or_cut_checkpoint_is_named(data, tmp_path):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    assert 'is empty' in stops(test_cli.main, CLS_DEMO, empty)
    cut = tmp_path / 'cut.pth'
    torch.save(dict(state_dict=init_model(str(CLS_DEMO)).state_dict()), cut)
    cut.write_bytes(cut.read_bytes()[:5000])
    assert 'is truncated or not a checkpoint' in stops(test_cli.main, CLS_DEMO,
                                                       cut)
    assert 'truncated or not a checkpoint' in stops(train_cli.main, CLS_DEMO,
                                                    '--work-dir',
                                                    tmp_path / 'run',
                                                    '--resume', cut)


def test_our_errors_print_one_line_and_tracebacks_on_request(
        data, monkeypatch):
    with pytest.raises(ConfigError):
        run(train_cli.main, [
            str(CLS_DEMO), '--debug', '--cfg-options',
            'optim_wraper.optimizer.lr=1'
        ])
    monkeypatch.setenv('MMDUALTOKEN_DEBUG', '1')
    with pytest.raises(ConfigError):
        run(train_cli.main,
            [str(CLS_DEMO), '--cfg-options', 'optim_wraper.optimizer.lr=1'])


def test_another_error_keeps_its_traceback_and_ends_with_its_line(capsys):

    def broken(argv):
        raise KeyError('something deep')

    with pytest.raises(SystemExit) as stop:
        run(broken, [])
    assert stop.value.code == "error: KeyError: 'something deep'"
    assert 'Traceback' in capsys.readouterr().err


def _threads() -> int:
    return len(os.listdir('/proc/self/task'))


@pytest.mark.parametrize('fails', [False, True], ids=['done', 'failed'])
def test_a_command_leaves_its_process_group_and_its_threads(fails, tmp_path):
    """The group's gloo threads end before the interpreter does, also when
    a reference cycle holds the group, as the runner's DDP wrapper does."""
    import torch.distributed as dist
    before = _threads()
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    assert _threads() > before

    def main(argv):
        cycle = {'group': dist.group.WORLD}
        cycle['self'] = cycle
        if fails:
            raise ConfigError('bad config')
        return 'done'

    if fails:
        with pytest.raises(SystemExit, match='error: bad config'):
            run(main, [])
    else:
        assert run(main, []) == 'done'
    assert not dist.is_initialized() and _threads() == before


def test_demo_passes_the_tools_progress_lines_through(tmp_path, capsys):
    """tools/demo.py shows each log line's place, time left and loss as the
    tool prints it, and keeps the whole output in the log."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('demo_tool',
                                                  REPO / 'tools/demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    script = tmp_path / 'tool.py'
    script.write_text(
        "print('12/03 17:00:00 - mmengine - INFO - Epoch(train)  [1][ 8/32]"
        "  base_lr: 1.0e-03 lr: 1.0e-03  eta: 0:01:51  time: 0.2  loss: "
        "1.3175')\n"
        "print('noise')\n"
        "print('12/03 - mmengine - INFO - Iter(val) [50/50]    aAcc: 90.8"
        "  mIoU: 64.4000  mAcc: 75.7')\n")
    log = tmp_path / 'tool.log'
    demo.stream(str(log), str(script))
    shown = capsys.readouterr().out.splitlines()
    assert [line.split() for line in shown] == [
        ['train', '[1][', '8/32]', 'eta', '0:01:51', 'loss', '1.3175'],
        ['val', '[50/50]', 'mIoU', '64.4000'],
    ]
    assert 'noise' in log.read_text()


def test_a_pretrained_init_cfg_given_as_an_option_loads(data, tmp_path):
    """On a backbone whose config has no init_cfg, the dict of
    --cfg-options works as it does written in a config file."""
    from mmengine.registry import MODELS, init_default_scope

    from mmdualtoken.cli.config import load_config
    source = init_model(str(CLS_DEMO))
    path = tmp_path / 'classifier.pth'
    torch.save(dict(state_dict=source.state_dict()), path)
    cfg = load_config(
        str(CLS_DEMO), {
            'model.backbone.init_cfg':
            dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')
        })
    assert '_delete_' not in cfg.model.backbone.init_cfg
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in source.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


def test_more_mistakes_stop_with_one_line_naming_the_cause(data, tmp_path):
    work = ['--work-dir', tmp_path / 'run']
    message = stops(train_cli.main, CLS_DEMO, *work, '--cfg-options',
                    "model.backbone.block_norm_cfg=dict(type='GN')")
    assert "block_norm_cfg={'type': 'GN'}" in message
    assert "type='LN'" in message
    train_json = data / 'coco/annotations/instances_train2017.json'
    original = train_json.read_text()
    train_json.write_text(original[:len(original) // 2])
    message = stops(train_cli.main, MASK_RCNN_DEMO, *work)
    assert 'instances_train2017.json is not a JSON file' in message
    assert 'train_dataloader.dataset.ann_file' in message
    train_json.write_text(original)
    (tmp_path / 'folder').mkdir()
    message = stops(test_cli.main, CLS_DEMO, tmp_path / 'folder')
    assert 'is a folder: name a checkpoint file in it' in message
    from mmdualtoken.cli import host_tool
    message = stops(host_tool.main, 'nosuchhost', 'train.py')
    assert "'nosuchhost' is not a host library" in message
    assert 'mmdet, mmseg, mmpretrain, timm' in message
    assert not list(tmp_path.rglob('*.pth'))


def test_bad_coco_boxes_stop_naming_them_or_go_when_told(data, tmp_path):
    """Boxes outside their image, of zero area or with negative coordinates
    stop before training (mmdet would drop or keep them without a word);
    dataset_check.bad_boxes=drop goes on and says so."""
    from mmengine.logging import MMLogger
    from mmengine.registry import DATASETS, init_default_scope

    from mmdualtoken.datasets import check_dataset
    train_json = data / 'coco/annotations/instances_train2017.json'
    content = json.loads(train_json.read_text())
    image = content['images'][0]
    anns = content['annotations']
    anns[0]['bbox'] = [image['width'] + 5, 3, 10, 10]
    anns[1]['bbox'] = [4, 4, 0, 12]
    anns[2]['bbox'] = [-6, 2, 20, 20]
    train_json.write_text(json.dumps(content))
    message = stops(train_cli.main, MASK_RCNN_DEMO, '--work-dir',
                    tmp_path / 'run')
    assert '3 bad boxes' in message and 'outside its' in message
    assert 'zero area' in message and 'negative coordinates' in message
    assert 'default_hooks.dataset_check.bad_boxes=drop' in message
    assert not list(tmp_path.rglob('*.pth'))

    from mmdualtoken.cli.config import load_config
    cfg = load_config(str(MASK_RCNN_DEMO))
    init_default_scope('mmdet')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    logger = MMLogger.get_current_instance()
    warnings = []
    logger.addFilter(lambda record: warnings.append(record.getMessage()))
    check_dataset(dataset, 'train_dataloader.dataset', True, 'drop')
    assert any('3 bad boxes' in w and 'go' in w for w in warnings), warnings
