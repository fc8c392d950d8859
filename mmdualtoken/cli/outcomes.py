"""What a rank leaves its launcher (:mod:`mmdualtoken.cli.launch`): its
exit status and one-line message, in the folder the launcher names."""
import json
import os
import os.path as osp
from typing import Dict

OUTCOMES_ENV = 'MMDUALTOKEN_OUTCOMES'


def write_outcome(status: int, message: str) -> None:
    """Leaves this rank's outcome for the launcher, if one asked for it."""
    folder = os.environ.get(OUTCOMES_ENV)
    if folder and osp.isdir(folder):
        path = osp.join(folder, f'rank{os.environ.get("RANK", "0")}.json')
        with open(f'{path}.part', 'w') as f:
            json.dump(dict(status=status, message=message), f)
        os.replace(f'{path}.part', path)


def read_outcomes(folder: str) -> Dict[int, dict]:
    """Global rank -> the outcome it left in ``folder``."""
    outcomes = {}
    for name in os.listdir(folder):
        if name.startswith('rank') and name.endswith('.json'):
            with open(osp.join(folder, name)) as f:
                outcomes[int(name[4:-5])] = json.load(f)
    return outcomes
