"""``python -m mmdualtoken.toy_data``: see :mod:`mmdualtoken.cli.toy_data`."""
from mmdualtoken.cli import run
from mmdualtoken.cli.toy_data import main

if __name__ == '__main__':
    run(main)
