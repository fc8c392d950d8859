# mmdet's runtime with the run protections of ./run_protections.py.
_base_ = ['mmdet::_base_/default_runtime.py', './run_protections.py']

default_hooks = {{_base_.run_protections}}
