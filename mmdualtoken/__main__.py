"""``python -m mmdualtoken HOST TOOL [ARGS...]``: see
:mod:`mmdualtoken.cli.host_tool`."""
from mmdualtoken.cli import run
from mmdualtoken.cli.host_tool import main

if __name__ == '__main__':
    run(main)
