"""DualToken-ViT for the OpenMMLab task libraries.

``import mmdualtoken`` registers the ``mmdualtoken`` scope (the backbone,
necks, hooks, samplers and transforms our configs name) and applies the
changes to mmengine and torch listed in :mod:`mmdualtoken.host_patches`:
safe checkpoint loading and ``mmdualtoken::`` config paths.
"""
import importlib.util

from .version import __version__


def _check_openmmlab_installed() -> None:
    """pip does not install mmcv and mmengine with mmdualtoken (mmcv has no
    wheels on PyPI): say how to get them instead of a bare ImportError."""
    missing = [
        name for name in ('mmengine', 'mmcv')
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ImportError(
            f'mmdualtoken needs {" and ".join(missing)}, which pip does not '
            'install with it. From a checkout run `bash '
            'tools/install_deps.sh` (builds mmcv 2.1.0 with its ops), or '
            'use OpenMMLab\'s installer: `pip install openmim && mim install '
            '"mmengine>=0.10.6" "mmcv>=2.0.0,<2.2.0"`.')


_check_openmmlab_installed()

from . import datasets, engine, host_patches  # noqa: E402,F401
from .errors import ConfigError, DataError, MMDualTokenError  # noqa: E402,F401
from .models import StrideFourLevel  # noqa: E402
from .models import DualTokenViT, TokenProjectionNeck

__all__ = [
    '__version__', 'DualTokenViT', 'StrideFourLevel', 'TokenProjectionNeck'
]

host_patches.apply()
