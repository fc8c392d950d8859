import hashlib

import numpy as np
from mmengine.registry import init_default_scope
from PIL import Image
from pycocotools.coco import COCO

from mmdualtoken.toy_data import (ADE_LABELS, COCO_CLASSES, IMAGENET_CLASSES,
                                  make_toy_ade20k, make_toy_coco,
                                  make_toy_imagenet)


def digest(root):
    sha = hashlib.sha256()
    for path in sorted(p for p in root.rglob('*') if p.is_file()):
        sha.update(str(path.relative_to(root)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    for name, seed in (('a', 3), ('b', 3), ('c', 4)):
        make_toy_imagenet(str(tmp_path / name), 2, 2, seed=seed)
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b')
    assert digest(tmp_path / 'a') != digest(tmp_path / 'c')


def test_imagenet_layout_loads_in_mmpretrain(tmp_path):
    from mmpretrain.datasets import ImageNet
    root = make_toy_imagenet(str(tmp_path), 3, 2)
    train = ImageNet(
        data_root=root, split='train', metainfo=dict(classes=IMAGENET_CLASSES))
    val = ImageNet(
        data_root=root, split='val', metainfo=dict(classes=IMAGENET_CLASSES))
    assert len(train) == 3 * len(IMAGENET_CLASSES)
    assert len(val) == 2 * len(IMAGENET_CLASSES)
    labels = [val.get_data_info(i)['gt_label'] for i in range(len(val))]
    assert sorted(labels) == sorted(list(range(len(IMAGENET_CLASSES))) * 2)
    # Colours are random within a class: they cannot tell classes apart.
    for label in range(len(IMAGENET_CLASSES)):
        means = [
            np.asarray(Image.open(info['img_path'])).mean(axis=(0, 1))
            for info in (train.get_data_info(i) for i in range(len(train)))
            if info['gt_label'] == label
        ]
        assert np.ptp(np.stack(means), axis=0).max() > 20


def test_coco_layout_loads_in_pycocotools_and_mmdet(tmp_path):
    from mmdet.datasets import CocoDataset
    root = make_toy_coco(str(tmp_path), num_train=6, num_val=3)
    coco = COCO(f'{root}/annotations/instances_train2017.json')
    assert [c['name']
            for c in coco.loadCats(coco.getCatIds())] == list(COCO_CLASSES)
    for ann in coco.loadAnns(coco.getAnnIds()):
        mask = coco.annToMask(ann)
        x, y, w, h = ann['bbox']
        ys, xs = np.nonzero(mask)
        # The polygon mask fills the box it was measured from.
        assert xs.min() >= x - 1 and xs.max() <= x + w
        assert ys.min() >= y - 1 and ys.max() <= y + h
        assert abs(mask.sum() - ann['area']) <= 0.25 * ann['area'] + 8
    init_default_scope('mmdet')
    dataset = CocoDataset(
        data_root=root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        metainfo=dict(classes=COCO_CLASSES),
        test_mode=True,
        pipeline=[])
    assert len(dataset) == 3
    assert all(len(dataset.get_data_info(i)['instances']) for i in range(3))


def test_ade20k_layout_loads_in_mmseg(tmp_path):
    from mmseg.datasets import ADE20KDataset
    root = make_toy_ade20k(str(tmp_path), num_train=4, num_val=2)
    init_default_scope('mmseg')
    dataset = ADE20KDataset(
        data_root=root,
        data_prefix=dict(
            img_path='images/validation',
            seg_map_path='annotations/validation'),
        pipeline=[])
    assert len(dataset) == 2
    labels = np.asarray(Image.open(dataset.get_data_info(0)['seg_map_path']))
    assert set(np.unique(labels)) <= {0, *ADE_LABELS}
    assert len(set(np.unique(labels)) - {0}) >= 1


def test_command_keeps_a_dataset_and_replaces_it_only_when_forced(
        tmp_path, capsys):
    from mmdualtoken.cli.toy_data import main
    root = tmp_path / 'toy'
    main(['--task', 'cls', '--root', str(root)])
    written = digest(root / 'imagenet')
    (root / 'imagenet/mine.txt').write_text('kept')
    main(['--task', 'cls', '--root', str(root)])
    assert (root / 'imagenet/mine.txt').read_text() == 'kept'
    assert 'keeping it' in capsys.readouterr().out
    main(['--task', 'cls', '--root', str(root), '--force'])
    assert digest(root / 'imagenet') == written
    assert sorted(p.name for p in root.iterdir()) == ['imagenet']


def test_command_rewrites_a_dataset_of_another_version(tmp_path, capsys):
    from mmdualtoken.cli.toy_data import main
    from mmdualtoken.toy_data import TOY_DATA_VERSION
    root = tmp_path / 'toy'
    main(['--task', 'cls', '--root', str(root)])
    written = digest(root / 'imagenet')
    stamp = root / 'imagenet/toy_data_version'
    assert stamp.read_text().strip() == str(TOY_DATA_VERSION)
    stamp.write_text('1\n')
    (root / 'imagenet/old.txt').write_text('old data')
    main(['--task', 'cls', '--root', str(root)])
    assert 'another version' in capsys.readouterr().out
    assert digest(root / 'imagenet') == written
    assert sorted(p.name for p in root.iterdir()) == ['imagenet']


def test_coco_objects_are_apart_and_ade_labels_follow_them(tmp_path):
    coco = COCO(
        make_toy_coco(str(tmp_path / 'coco'), num_train=8, num_val=1) +
        '/annotations/instances_train2017.json')
    for image_id in coco.getImgIds():
        masks = [
            coco.annToMask(a)
            for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        ]
        assert 1 <= len(masks) <= 3
        assert max(sum(masks).flatten()) == 1  # no two objects overlap
    root = make_toy_ade20k(str(tmp_path / 'ade'), num_train=8, num_val=1)
    for path in sorted((tmp_path / 'ade/annotations/training').iterdir()):
        labels = np.asarray(Image.open(path))
        # Wall (the background) covers most of the image, shapes the rest.
        assert (labels == ADE_LABELS[0]).mean() > 0.3
        assert set(np.unique(labels)) - {0, ADE_LABELS[0]}
    assert root == str(tmp_path / 'ade')
