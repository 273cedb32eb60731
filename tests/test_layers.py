"""The layers of babyai/: the command lines (babyai/commands, babyai/cli.py and a package's cli.py) sit on top of
the library and nothing below imports them; no two modules import each other, directly or round a circle, when
they are first imported. Read from the source with ``ast`` (imports inside functions count for the layers)."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in sorted((ROOT / "babyai").rglob("*.py"))}
PACKAGES = {module_name(p) for p in (ROOT / "babyai").rglob("__init__.py")}


def lazy_table(package: str) -> dict[str, str]:
    """exported name -> owner module of a package ``__init__`` that calls ``lazy_exports(__name__, {...})``."""
    table = {}
    for node in ast.walk(ast.parse(SOURCES[package].read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            for module, names in ast.literal_eval(node.args[1]).items():
                table.update({entry.partition(" as ")[2] or entry: module for entry in names})
    return table


LAZY = {package: lazy_table(package) for package in PACKAGES}


def targets(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    """The babyai modules an import statement runs (a name a package exports lazily: the module it comes from)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = importer if importer in PACKAGES else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    module = ".".join(filter(None, [base if node.level else "", node.module or ""]))
    found = [module]  # its package __init__ runs too
    for alias in node.names:
        name = f"{module}.{alias.name}"
        found.append(name if name in SOURCES else LAZY.get(module, {}).get(alias.name, module))
    return found


def imports(importer: str) -> list[tuple[str, bool]]:
    """(babyai module, imported when ``importer`` is first imported) for each babyai import in its source."""
    found = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((name, top) for name in targets(child, importer) if name.split(".")[0] == "babyai")
            inner = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, top and not inner)

    visit(ast.parse(SOURCES[importer].read_text()), True)
    return found


IMPORTS = {name: imports(name) for name in SOURCES}


def is_command_line(module: str) -> bool:
    return module.startswith("babyai.commands") or module == "babyai.cli" or module.endswith(".cli")


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_is_read():
    """The parser sees the imports it guards (a broken reader would pass every rule below)."""
    assert ("babyai.train.run", True) in IMPORTS["babyai.train.trainer"]
    assert ("babyai.agent.loading", True) in IMPORTS["babyai.teach.agent"]  # an owner, not the package
    assert any(name == "babyai.observe.bco" and not top for name, top in IMPORTS["babyai.commands.train"])


def test_only_command_lines_import_commands():
    """babyai.commands (argument parsing) sits on top: nothing below imports it."""
    upward = sorted({f"{m} -> {t}" for m, found in IMPORTS.items() for t, _ in found
                     if inside(t, "babyai.commands") and not inside(m, "babyai.commands")})
    assert upward == []


def test_the_library_does_not_import_command_lines():
    """babyai.cli (exit codes, ``run``) and a package's cli.py are for commands; errors and logging live below
    them (babyai.errors, babyai.log)."""
    upward = sorted({f"{m} -> {t}" for m, found in IMPORTS.items() for t, _ in found
                     if is_command_line(t) and not is_command_line(m)})
    assert upward == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def module_graph() -> dict[str, set[str]]:
    """importer -> the babyai modules its first import runs: each target and the packages above it that are
    not the importer's own (a package's ``__init__`` importing its own modules is no circle)."""
    graph = {}
    for importer, found in IMPORTS.items():
        edges = set()
        for target, top in found:
            parts = target.split(".")
            for depth in range(2, len(parts) + 1):
                name = ".".join(parts[:depth])
                if top and name in SOURCES and name != importer and not inside(importer, name):
                    edges.add(name)
        graph[importer] = edges
    return graph


def test_circles_are_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_between_modules():
    assert circles(module_graph()) == []



def package_graph() -> dict[str, set[str]]:
    """babyai.X -> the babyai.Y (a package, or a module directly under babyai/) its modules import anywhere."""
    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2])

    graph = {}
    for importer, found in IMPORTS.items():
        graph.setdefault(unit(importer), set()).update(unit(t) for t, _ in found if unit(t) != unit(importer))
    return graph


def test_no_circles_between_packages():
    """The packages form layers: no package needs, even inside a function, one that needs it back (a circle
    through a command's ``main`` or the command-line helpers was one)."""
    assert circles(package_graph()) == []
