"""browse_dataset.py draws pipeline outputs with the hosts' visualizers."""
import pytest
from helpers import (CLS_DEMO, MASK_RCNN_DEMO, SEG_DEMO, assert_real_picture,
                     make_toy, run_tool)

CASES = {
    'cls': (CLS_DEMO, (32, 32)),
    'det': (MASK_RCNN_DEMO, (96, 96)),
    # Random rescaling, then a crop of at most 96x96.
    'seg': (SEG_DEMO, None),
}


@pytest.mark.parametrize('task', CASES)
def test_training_samples_are_drawn_with_their_annotations(
        task, toy_root, tmp_path):
    config, size = CASES[task]
    make_toy(toy_root, task)
    result = run_tool(toy_root, 'tools/analysis_tools/browse_dataset.py',
                      config, '--num', 3, '--out-dir', tmp_path)
    pictures = [
        line for line in result.stdout.split() if line.endswith('.png')
    ]
    assert len(pictures) == 3 and sorted(pictures) == sorted(
        str(p) for p in tmp_path.glob('*.png'))
    for picture in pictures:
        # The pipeline's output size (resized / cropped), not the file's.
        assert_real_picture(picture, size)
        if size is None:
            from PIL import Image
            assert max(Image.open(picture).size) <= 96
