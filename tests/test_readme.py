"""The README's config snippet, run as it stands."""
import re

import torch
from helpers import REPO, assert_detector_trains
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmdualtoken
from mmdualtoken.models import DualTokenViT


def readme_snippet(name: str) -> str:
    readme = (REPO / 'README.md').read_text()
    match = re.search(rf'<!-- snippet: {name} -->\n```python\n(.*?)```',
                      readme, re.S)
    assert match, f'snippet {name} not found in the README'
    return match.group(1)


def test_own_maskrcnn_config_snippet_trains_with_the_checkpoint_loaded(
        tmp_path, monkeypatch):
    # The ImageNet classifier checkpoint the snippet names.
    source = DualTokenViT(arch='s')
    (tmp_path / 'checkpoints').mkdir()
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in source.state_dict().items()
        }), tmp_path / 'checkpoints/dualtoken-vit-s_8xb128_in1k.pth')
    config = tmp_path / 'my_mask_rcnn.py'
    config.write_text(readme_snippet('own-maskrcnn-config'))
    monkeypatch.chdir(tmp_path)

    cfg = Config.fromfile(str(config))
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    loaded = model.backbone.state_dict()
    for key, value in source.state_dict().items():
        if not key.startswith('norm'):  # out_indices add norms 0 and 1
            assert torch.equal(loaded[key], value), key
    assert_detector_trains(model, (160, 224))


def test_model_zoo_links_and_metafiles_name_every_config():
    import yaml
    readme = (REPO / 'README.md').read_text()
    linked = set(re.findall(r'\]\((configs/[^)]+\.py)\)', readme))
    assert all((REPO / path).is_file() for path in linked)
    configs = {
        str(path.relative_to(REPO))
        for task in ('classification', 'detection', 'segmentation')
        for path in (REPO / 'configs' / task).glob('*.py')
    }
    assert configs <= linked, configs - linked
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    listed = {
        model['Config']
        for metafile in index['Import']
        for model in yaml.safe_load((REPO / metafile).read_text())['Models']
    }
    assert listed == configs - {'configs/detection/maskrcnn_dt_vit_1x.py'}


def test_each_task_folder_documents_its_zoo_as_mmpretrain_does():
    """A README per task folder (results table with the toy figures of the
    main README's demo table, the commands, the paper's BibTeX), the
    metafiles pointing to it, and a CITATION.cff of this version."""
    import yaml
    readme = (REPO / 'README.md').read_text()
    demo_rows = re.findall(r'^\| (\w+)/demo/(\S+) \| (.*?) \|', readme, re.M)
    assert len(demo_rows) == 5
    for task in ('classification', 'detection', 'segmentation'):
        text = (REPO / 'configs' / task / 'README.md').read_text()
        assert '@article{chu2023dualtoken' in text
        assert 'tools/test.py' in text and 'not yet trained' in text
        links = re.findall(r'\]\(([^)]+\.py)\)', text)
        assert links and all(
            (REPO / 'configs' / task / link).is_file() for link in links)
        for folder, config, metric in demo_rows:
            if folder == task:
                figures = re.findall(r'\d+\.\d+', metric)
                row = next(line for line in text.splitlines()
                           if f'[{config}]' in line)
                assert all(figure in row for figure in figures), (config, row)
        metafile = yaml.safe_load(
            (REPO / 'configs' / task / 'metafile.yml').read_text())
        for collection in metafile['Collections']:
            assert collection['README'] == f'configs/{task}/README.md'
            assert collection['Paper']['URL'].endswith('2309.12424')
    citation = yaml.safe_load((REPO / 'CITATION.cff').read_text())
    assert citation['version'] == mmdualtoken.__version__
    assert citation['preferred-citation']['url'].endswith('2309.12424')
