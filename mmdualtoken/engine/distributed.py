from mmengine.model import MMDistributedDataParallel

from mmdualtoken.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper, usable with CPU processes (``gloo``).

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which
    PyTorch rejects for a module on the CPU; they are dropped here, so the
    distributed path runs on machines without CUDA (tests, debugging).
    """

    def __init__(self, module, **kwargs):
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module=module, **kwargs)
