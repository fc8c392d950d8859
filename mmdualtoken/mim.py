"""``mmdualtoken::`` config paths, as ``mmdet::`` and ``mmseg::`` work.

OpenMMLab packages ship their configs inside the package, under ``.mim/``
(here ``mmdualtoken/.mim/configs`` and ``.mim/model-index.yml``, links to
the checkout's files that a wheel build copies), so that a config anywhere
can say
``_base_ = 'mmdualtoken::detection/maskrcnn_dt_vit_t_8xb2_1x_coco.py'``.
mmengine 0.10 resolves ``pkg::`` only for the packages in its
``MODULE2PACKAGE`` table and finds the package through its distribution's
location, which for an editable install is site-packages, not the
checkout. :func:`register_config_package` (run by ``import mmdualtoken``)
adds us to the table and points the lookup at this package's directory,
whatever the install. mmengine reads ``_base_`` before ``custom_imports``,
so ``mmdualtoken`` must be imported first: our tools do, and
``python -m mmdualtoken HOST TOOL ...`` runs a host library's own tool
after importing it.
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
