"""What the package holds and how its modules depend on each other: a
library that users import, whose run behaviour is declared by configs
(engine/), with the command line and the lab tooling outside it."""
import ast
from pathlib import Path

import mmdualtoken

PACKAGE = Path(mmdualtoken.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts).removesuffix('.__init__')


def is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace('.', '/')
    return path.with_suffix('.py').exists() or (path / '__init__.py').exists()


def imported_modules(path: Path) -> set:
    """The mmdualtoken modules a file imports, relative imports resolved;
    the top package itself is left out (every module's parent)."""
    package = module_name(path)
    if path.name != '__init__.py':
        package = package.rsplit('.', 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                parts = parts[:len(parts) - node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            names = [base] + [f'{base}.{alias.name}' for alias in node.names]
        else:
            continue
        found.update(
            name for name in names
            if name.startswith('mmdualtoken.') and is_module(name))
    return found


def import_graph() -> dict:
    return {
        module_name(path): imported_modules(path)
        for path in PACKAGE.rglob('*.py')
    }


def test_engine_and_host_patches_import_without_a_cycle():
    graph = import_graph()
    nodes = [n for n in graph if n.startswith('mmdualtoken.engine')
             ] + ['mmdualtoken.host_patches']

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo += graph.get(node, ())
        return False

    cycles = [(a, b) for a in nodes for b in graph.get(a, ())
              if reaches(b, a) and not b.startswith(a + '.')]
    assert not cycles, cycles
    engine = [n for n in graph if n.startswith('mmdualtoken.engine')]
    assert not any('mmdualtoken.host_patches' in graph[n] for n in engine)


def test_the_library_holds_no_benchmark_and_no_compiler_internals():
    """The benchmark is lab tooling (tools/analysis_tools/benchmarking.py),
    as timm keeps its benchmark outside its package."""
    assert not (PACKAGE / 'benchmark.py').exists()
    for path in PACKAGE.rglob('*.py'):
        text = path.read_text()
        for internal in ('torch._inductor', 'torch._logging'):
            assert internal not in text, (path, internal)


def test_engine_holds_what_configs_declare_and_the_command_line_the_rest():
    """engine/ has no module that rewrites configs for our tools; those
    live in mmdualtoken.cli."""
    engine = {path.stem for path in (PACKAGE / 'engine').glob('*.py')}
    assert not engine & {'config', 'runs'}
    assert (PACKAGE / 'cli' / 'config.py').exists()


def test_our_code_loads_checkpoints_only_with_weights_only():
    """docs/reliability.md: ``torch.load`` and
    ``torch.hub.load_state_dict_from_url`` run code by default; each call of
    ours (package and tools) passes ``weights_only=True``."""
    unguarded = []
    for path in [
            *PACKAGE.rglob('*.py'), *(PACKAGE.parent / 'tools').rglob('*.py')
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ('load', 'load_state_dict_from_url')
                    and ast.unparse(node.func.value) in ('torch', 'torch.hub')
                    and not any(k.arg == 'weights_only'
                                and ast.unparse(k.value) == 'True'
                                for k in node.keywords)):
                unguarded.append(f'{path.name}:{node.lineno}')
    assert not unguarded
    calls = (PACKAGE / 'engine/checkpoint.py').read_text()
    assert 'torch.load(' in calls and 'load_state_dict_from_url(' in calls
