"""``mmdualtoken::`` config paths, as ``mmdet::`` and ``mmseg::`` work.

OpenMMLab packages ship their configs inside the package, under ``.mim/``
(here ``mmdualtoken/.mim/configs`` and ``.mim/model-index.yml``, links to
the checkout's files that a wheel build copies), so that a config anywhere
can say ``_base_ = 'mmdualtoken::detection/<config>.py'``.

mmengine 0.10 resolves ``pkg::`` only for the packages in its
``MODULE2PACKAGE`` table and finds the package through its distribution's
location, which for an editable install is site-packages, not the
checkout. :func:`register_config_package` (run by ``import mmdualtoken``)
adds us to the table and points the lookup at this package's directory,
whatever the install.

mmengine also tags every dict of a ``pkg::`` base that has a ``type`` and
no ``_scope_`` with ``_scope_=pkg``. Ours are written for their host's
default scope (a classifier, a visualizer, a scheduler), so for
``mmdualtoken::`` bases that tag is not added: a config inherited by
``mmdualtoken::`` resolves as the same file loaded by its path does.

mmengine reads ``_base_`` before ``custom_imports``, so ``mmdualtoken``
must be imported first: our tools do, and ``python -m mmdualtoken HOST
TOOL ...`` runs a host library's own tool after importing it.
"""
import os.path as osp

PACKAGE_DIR = osp.dirname(osp.abspath(__file__))


def register_config_package() -> None:
    """Makes ``mmdualtoken::PATH`` resolve to ``.mim/configs/PATH``
    (idempotent)."""
    from mmengine.config import config, utils
    utils.MODULE2PACKAGE.setdefault('mmdualtoken', 'mmdualtoken')
    lookup = config.get_installed_path
    if getattr(lookup, 'knows_mmdualtoken', False):
        return

    def get_installed_path(package: str) -> str:
        return PACKAGE_DIR if package == 'mmdualtoken' else lookup(package)

    get_installed_path.knows_mmdualtoken = True
    config.get_installed_path = get_installed_path

    cfg_path = config.Config._get_cfg_path

    def _get_cfg_path(path: str, filename: str):
        path, scope = cfg_path(path, filename)
        return path, None if scope == 'mmdualtoken' else scope

    config.Config._get_cfg_path = staticmethod(_get_cfg_path)
