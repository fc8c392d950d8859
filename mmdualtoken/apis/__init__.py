from .config import adapt_to_device, load_config

__all__ = ['adapt_to_device', 'load_config']
