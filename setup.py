from setuptools import find_packages, setup

setup(
    name='mmdualtoken',
    version='0.1.0',
    description='DualToken-ViT (arXiv 2309.12424) backbone for mmpretrain, '
    'mmdetection and mmsegmentation',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmdualtoken', 'mmdualtoken.*']),
    python_requires='>=3.8',
    install_requires=['torch>=2.0', 'mmengine>=0.10.6', 'mmcv>=2.0.0,<2.2.0'],
    extras_require={
        'tasks': ['mmpretrain>=1.2.0', 'mmdet>=3.3.0', 'mmsegmentation>=1.2.2'],
    },
    license='Apache-2.0',
)
