"""The layering of DESIGN.md, held by reading the source: arrows point down only, and the domain is pure."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

IO_LIBRARIES = {"discord", "aiosqlite", "asyncpg", "apscheduler", "aiohttp"}
UPPER_LAYERS = {"bot.storage", "bot.exts", "bot.app", "bot.api", "bot.reminders", "bot.config", "bot.__main__"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("datetime", "today"), ("time", "time")}


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING"


def import_statements(
    path: Path, source: str | None = None, *, runtime_only: bool = False
) -> list[tuple[str, list[str]]]:
    """(module, names) for every import in `path` (its text, or `source` as if it sat there), relative imports
    resolved: `import a.b` is ("a.b", []), `from .x import y` is ("<package>.x", ["y"]). Imports inside functions
    count; with `runtime_only`, those under `if TYPE_CHECKING:` (never run) do not (its `else:` still does)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source, filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, [alias.name for alias in node.names]))
        elif runtime_only and isinstance(node, ast.If) and is_type_checking(node.test):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def imports(path: Path, source: str | None = None, *, runtime_only: bool = False) -> set[str]:
    """Every module `path` imports (its text, or `source` as if it sat there), relative imports resolved."""
    found: set[str] = set()
    for target, names in import_statements(path, source, runtime_only=runtime_only):
        found.add(target)
        found.update(f"{target}.{name}" for name in names)
    return found


def clock_calls(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source, filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in CLOCK_CALLS:
                calls.append(f"{path.name}:{node.lineno} {name}.{node.func.attr}()")
    return calls


def violations(modules: set[str], forbidden: set[str]) -> list[str]:
    return sorted(m for m in modules for f in forbidden if m == f or m.startswith(f + "."))


DOMAIN_FILES = sorted((BOT / "domain").glob("*.py"))
STORAGE_FILES = sorted((BOT / "storage").rglob("*.py"))
MODULES = {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def bot_imports(path: Path, source: str | None = None) -> set[str]:
    """The modules of `bot` that `path` makes Python run (imports under `if TYPE_CHECKING:` do not, those inside
    functions do): `from pkg import name` is the submodule `pkg.name` when there is one, else `pkg` (a package
    is its `__init__`); a name that is no module resolves to the nearest module above it."""
    found: set[str] = set()
    for target, names in import_statements(path, source, runtime_only=True):
        for name in [f"{target}.{n}" if f"{target}.{n}" in MODULES else target for n in names] or [target]:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name == "bot" or name.startswith("bot."):
                found.add(name)
    return found


def import_loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import loop of `graph` (module -> modules it imports): each strongly connected component of more
    than one module, and each module that imports itself, its modules sorted (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph.get(root, ()))))]
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    if len(component) > 1 or node in graph.get(node, ()):
                        components.append(sorted(component))
    return sorted(components)


def cycle_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One cycle inside a loop, from its first module back to it: the path to read when the test fails."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        step = []
        for node in frontier:
            for nxt in sorted(graph.get(node, set()) & component):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in came_from:
                    came_from[nxt] = node
                    step.append(nxt)
        frontier = step
    raise AssertionError(f"no cycle through {sorted(component)}")  # a component of more than one module has one


def test_the_layers_exist_and_their_imports_are_read() -> None:
    assert len(DOMAIN_FILES) >= 6 and len(STORAGE_FILES) >= 3
    assert {"bot.domain.errors", "bot.domain.timeparse"} <= imports(BOT / "domain" / "models.py")
    assert "aiosqlite" in imports(BOT / "storage" / "sqlite.py")


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_the_domain_imports_no_io_and_nothing_above_it(path: Path) -> None:
    found = imports(path)
    assert violations(found, IO_LIBRARIES | UPPER_LAYERS) == []
    ours = {m for m in found if m == "bot" or m.startswith("bot.")}
    assert all(m.startswith("bot.domain") for m in ours), ours


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_the_domain_never_reads_the_clock(path: Path) -> None:
    assert clock_calls(path) == []


@pytest.mark.parametrize("path", STORAGE_FILES, ids=lambda p: str(p.relative_to(BOT)))
def test_storage_imports_no_discord_and_nothing_above_it(path: Path) -> None:
    forbidden = {"discord", "aiohttp", "apscheduler", "bot.exts", "bot.app", "bot.api", "bot.reminders"}
    assert violations(imports(path), forbidden) == []  # not even for a type hint
    assert violations(imports(path, runtime_only=True), forbidden | {"bot.config"}) == []  # settings come in


# Arrows point down only, and `exts` and `api` are peers. `bot.app` (the Bot) composes `exts` and `api` and may
# import both; `bot.api.app` composes the route modules. A type-only import (under `if TYPE_CHECKING:`) is no
# arrow at run time, so `exts` may name the Bot in a hint; an import inside a function is one.
ARROWS_FORBIDDEN = {
    "bot.reminders": {"bot.exts", "bot.api", "bot.app"},
    "bot.exts": {"bot.api"},
    "bot.api": {"bot.exts", "bot.app"},  # the Bot module; `bot.api.app` is not under the prefix `bot.app.`
}
ARROW_FILES = [(path, layer) for layer in ARROWS_FORBIDDEN for path in sorted((BOT / layer[4:]).rglob("*.py"))]


def test_the_layers_with_arrows_exist() -> None:
    assert {layer for _, layer in ARROW_FILES} == set(ARROWS_FORBIDDEN)
    assert len(ARROW_FILES) >= 15


@pytest.mark.parametrize(("path", "layer"), ARROW_FILES, ids=[str(p.relative_to(BOT)) for p, _ in ARROW_FILES])
def test_arrows_point_down_and_peers_do_not_import_each_other(path: Path, layer: str) -> None:
    assert violations(imports(path, runtime_only=True), ARROWS_FORBIDDEN[layer]) == []


def test_metrics_and_logging_sit_below_every_layer_that_uses_them() -> None:
    """The engine, the Discord side and the API all count through bot.metrics: it imports nothing of ours
    (what it reads comes in as callables), nor does bot.locks. bot.logs reads only the settings."""
    assert bot_imports(BOT / "metrics.py") == set()
    assert bot_imports(BOT / "locks.py") == set()
    assert bot_imports(BOT / "logs.py") == {"bot.config"}


def import_graph() -> dict[str, set[str]]:
    return {module: bot_imports(path) for module, path in MODULES.items()}


def test_the_import_graph_is_read() -> None:
    graph = import_graph()
    assert {"bot", "bot.app", "bot.api.app", "bot.exts.events", "bot.storage.sqlite"} <= set(graph)
    assert {"bot.api.discal", "bot.api.perscom"} <= graph["bot.api.app"]  # `from . import discal, ...`
    assert "bot.storage.sqlite" in graph["bot.storage"]  # imported inside `open_store`
    assert "bot.app" not in graph["bot.exts.common"]  # only under `if TYPE_CHECKING:`


def test_there_are_no_import_loops() -> None:
    graph = import_graph()
    loops = import_loops(graph)
    assert loops == [], "import loops (type-only imports excepted):\n" + "\n".join(
        f"  {', '.join(loop)}: {' -> '.join(cycle_through(graph, set(loop)))}" for loop in loops
    )


# ---- the checkers themselves catch what they are for (a guard that cannot fail guards nothing)


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import discord", "discord"),
        ("from discord import app_commands", "discord"),
        ("import aiosqlite as db", "aiosqlite"),
        ("from apscheduler.schedulers.asyncio import AsyncIOScheduler", "apscheduler.schedulers.asyncio"),
        ("from bot.storage import open_store", "bot.storage"),
        ("from ..storage import sqlite", "bot.storage"),
        ("from .. import exts", "bot.exts"),
        ("def f():\n    import aiohttp\n", "aiohttp"),
    ],
)
def test_the_import_check_catches_forbidden_imports(source: str, caught: str) -> None:
    found = imports(BOT / "domain" / "probe.py", source)  # read as a domain module (never written)
    assert caught in violations(found, IO_LIBRARIES | UPPER_LAYERS)


def test_the_import_check_allows_the_domain_its_own_modules() -> None:
    found = imports(BOT / "domain" / "probe.py", "from .errors import InvalidField\nfrom bot.domain import colors")
    assert found >= {"bot.domain.errors", "bot.domain"}
    assert violations(found, IO_LIBRARIES | UPPER_LAYERS) == []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.now(datetime.UTC)",
        "from datetime import datetime\nx = datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "import time\nx = time.time()",
    ],
)
def test_the_clock_check_catches_clock_reads(source: str) -> None:
    assert clock_calls(BOT / "domain" / "probe.py", source)


def test_the_clock_check_allows_instants_passed_in() -> None:
    assert clock_calls(BOT / "domain" / "probe.py", "def f(now):\n    return now.astimezone()\n") == []


@pytest.mark.parametrize(
    ("graph", "loops"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, []),  # a diamond is no loop
        ({"a": {"a"}, "b": set()}, [["a"]]),  # a module importing itself
        ({"x": {"a"}, "a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
        ({"a": {"b"}, "b": {"outside"}}, []),  # an edge to a module the graph does not list
        ({f"m{i}": {f"m{i + 1}"} for i in range(5000)} | {"m5000": {"m0"}}, [sorted(f"m{i}" for i in range(5001))]),
    ],
    ids=["2-cycle", "3-cycle", "acyclic", "self-import", "two-loops", "dangling", "deep"],
)
def test_the_loop_finder_finds_loops_and_only_loops(graph: dict[str, set[str]], loops: list[list[str]]) -> None:
    assert import_loops(graph) == loops
    for loop in loops:
        cycle = cycle_through(graph, set(loop))
        assert cycle[0] == cycle[-1] and all(b in graph[a] for a, b in itertools.pairwise(cycle))


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from . import context", {"bot.api.context"}),  # the submodule, not the package's __init__
        ("from .context import RequestContext", {"bot.api.context"}),
        ("from bot.api.context import RequestContext", {"bot.api.context"}),
        ("from .. import exts", {"bot.exts"}),
        ("from ..exts import events", {"bot.exts.events"}),
        ("from bot import config, app", {"bot.config", "bot.app"}),
        ("import bot.storage.sqlite", {"bot.storage.sqlite"}),
        ("from bot.storage import open_store", {"bot.storage"}),  # a name of the package: its __init__
        ("import discord\nfrom datetime import UTC", set()),
        ("def f():\n    from bot.app import CalBot\n", {"bot.app"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import CalBot\n", set()),
        ("import typing\nif typing.TYPE_CHECKING:\n    from bot.app import CalBot\n", set()),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    from bot.app import CalBot\n", {"bot.app"}),
    ],
)
def test_the_graph_reads_which_modules_run(source: str, found: set[str]) -> None:
    assert bot_imports(BOT / "api" / "probe.py", source) == found  # read as an api module (never written)


def test_a_type_only_import_is_no_arrow_but_one_in_a_function_is() -> None:
    probe = BOT / "exts" / "probe.py"  # read as an extension (never written)
    type_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.api.app import ApiServer\n"
    in_function = "def serve():\n    from bot.api.app import ApiServer\n"
    assert "bot.api.app" in imports(probe, type_only)  # it is read ...
    assert (
        violations(imports(probe, type_only, runtime_only=True), ARROWS_FORBIDDEN["bot.exts"]) == []
    )  # ... and let be
    assert violations(imports(probe, in_function, runtime_only=True), ARROWS_FORBIDDEN["bot.exts"]) == [
        "bot.api.app",
        "bot.api.app.ApiServer",
    ]


@pytest.mark.parametrize(
    ("layer", "source", "caught"),
    [
        ("reminders", "from bot.exts.cards import refresh", "bot.exts.cards"),
        ("reminders", "from ..api import serve", "bot.api"),
        ("reminders", "def f():\n    from bot.app import CalBot\n", "bot.app"),
        ("exts", "from bot.api import context", "bot.api"),
        ("exts", "from .. import api", "bot.api"),
        ("api", "from bot.exts.common import after_write", "bot.exts.common"),
        ("api", "from bot.app import CalBot", "bot.app"),
        ("api", "from .. import app", "bot.app"),
    ],
)
def test_the_arrow_check_catches_arrows_up_and_across(layer: str, source: str, caught: str) -> None:
    found = imports(BOT / layer / "probe.py", source, runtime_only=True)
    assert caught in violations(found, ARROWS_FORBIDDEN[f"bot.{layer}"])


def test_the_arrow_check_lets_the_api_compose_its_routes() -> None:
    found = imports(
        BOT / "api" / "app.py", "from . import discal, perscom\nfrom .context import X\n", runtime_only=True
    )
    assert violations(found, ARROWS_FORBIDDEN["bot.api"]) == []


def test_the_storage_check_catches_config_but_not_as_a_type_hint() -> None:
    probe = BOT / "storage" / "probe.py"  # read as a storage module (never written)
    assert "bot.config" in violations(
        imports(probe, "from bot.config import Config", runtime_only=True), {"bot.config"}
    )
    hint = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.config import Config\n"
    assert violations(imports(probe, hint, runtime_only=True), {"bot.config"}) == []
