"""The arguments our tools share with the OpenMMLab tools."""
import argparse
import ast
import os

from mmengine.config import DictAction

from mmdualtoken.errors import ConfigError


def _literal(node: ast.AST):
    """A literal, or ``dict(key=literal, ...)`` (nested), from its AST."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'dict' and not node.args):
        return {kw.arg: _literal(kw.value) for kw in node.keywords}
    return ast.literal_eval(node)


class ConfigOptions(DictAction):
    """mmengine's ``--cfg-options`` parsing, which also takes Python dicts
    (``dict(type='Pretrained', checkpoint='x.pth')`` or ``{...}``) and says
    what went wrong instead of failing in its own parser."""

    @staticmethod
    def _parse_iterable(val: str):
        try:
            node = ast.parse(val.strip(), mode='eval').body
        except SyntaxError:
            node = None
        if isinstance(node, (ast.Call, ast.Dict)):
            try:
                return _literal(node)
            except ValueError:
                raise ConfigError(
                    f'--cfg-options: cannot read {val!r}: a dict value may '
                    f'hold only literals (numbers, strings, lists, None).'
                ) from None
        try:
            return DictAction._parse_iterable(val)
        except RecursionError:
            raise ConfigError(
                f'--cfg-options: cannot read {val!r}. Values are numbers, '
                f'strings, lists [a,b], tuples (a,b) or dict(k=v); or set '
                f'the keys one by one (a.b.c=1 a.b.d=2).') from None


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher``, ``--local-rank`` and ``--debug``."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=ConfigOptions,
        help='override config settings, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of our errors (also MMDUALTOKEN_DEBUG=1)')


def set_local_rank(local_rank: int) -> None:
    """Exports LOCAL_RANK as the OpenMMLab tools do for old launchers."""
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
