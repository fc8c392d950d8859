import os.path as osp
from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))


def requirements(name: str) -> list:
    """The requirement lines of requirements/NAME.txt."""
    with open(osp.join(ROOT, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def version() -> str:
    scope = {}
    with open(osp.join(ROOT, 'mmdualtoken', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


# mmcv and mmengine are not in install_requires, as in mmdet, mmseg and
# mmpretrain: pip would pick mmcv's sdist, which cannot build in isolation.
setup(
    name='mmdualtoken',
    version=version(),
    description='DualToken-ViT (arXiv 2309.12424) backbone for mmpretrain, '
    'mmdetection and mmsegmentation',
    long_description=open(osp.join(ROOT, 'README.md'),
                          encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmdualtoken', 'mmdualtoken.*']),
    # The configs and the model index ship inside the package, as in
    # OpenMMLab's packages (mmdualtoken/.mim/ links to the checkout's
    # files; the wheel holds copies), for `mmdualtoken::` config paths.
    package_data={
        'mmdualtoken': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.yml'
        ]
    },
    python_requires='>=3.8',
    install_requires=requirements('runtime'),
    extras_require={
        'mim': requirements('mminstall'),
        'tasks': requirements('tasks'),
        'optional': requirements('optional'),
    },
    license='Apache-2.0',
)
