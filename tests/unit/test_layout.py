"""The code's layout as DESIGN.md (Layout) promises it: a folder per area, maps, no import circles, one settings
module, one place for campaign access, and ruff's format and lint clean."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workflow", "webapp")
MAX_MODULES_PER_FOLDER = 15


def test_no_folder_holds_more_than_fifteen_modules():
    crowded = {
        str(folder.relative_to(ROOT)): count
        for folder in _code_folders()
        if (count := len([p for p in folder.glob("*.py") if p.name != "__init__.py"]))
        > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}


def test_each_package_docstring_maps_every_module_it_holds():
    unmapped = {}
    for folder in _code_folders():
        init = folder / "__init__.py"
        assert init.exists(), f"{folder.relative_to(ROOT)} is not a package"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        missing = [
            p.stem
            for p in folder.glob("*.py")
            if p.name != "__init__.py" and not re.search(rf"``{p.stem}``", docstring)
        ]
        missing += [
            d.name
            for d in folder.iterdir()
            if (d / "__init__.py").exists()
            and d.name != "migrations"
            and f"``{d.name}/``" not in docstring
        ]
        if missing:
            unmapped[str(folder.relative_to(ROOT))] = missing
    assert unmapped == {}


def test_no_module_imports_a_module_that_imports_it_back():
    graph = _import_graph()
    cycles = [sorted(component) for component in _strongly_connected(graph) if len(component) > 1]
    assert cycles == [], "import circles (counting imports inside functions too)"


def test_the_cycle_finder_finds_a_circle(tmp_path):
    # the walk above must be able to fail: two modules importing each other are one component
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(sorted(c) for c in _strongly_connected(graph) if len(c) > 1) == [["a", "b", "c"]]


def test_public_functions_and_classes_come_before_the_helpers():
    # a module reads top-down: what it offers first, its private helpers below
    late = {}
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        first_private = next((i for i, n in enumerate(defined) if n.startswith("_")), len(defined))
        public_after = [n for n in defined[first_private:] if not n.startswith("_")]
        if public_after:
            late[name] = public_after
    assert late == {}


def test_only_the_settings_module_reads_the_environment():
    readers = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") and "migrations" not in path.parts
    )
    assert readers == ["webapp/config.py"]


def test_campaign_existence_is_decided_in_the_access_module_only():
    raising = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if 'raise NotFound(f"no campaign' in path.read_text(encoding="utf-8")
    )
    assert raising == ["workflow/access.py"]


def test_the_engine_imports_no_flask():
    flask_users = sorted(
        module
        for module, imported in _import_names("workflow").items()
        if imported & {"flask", "flask_mail"}
    )
    assert flask_users == []


def test_no_test_module_imports_another():
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name.split(".")[-1].startswith("test_") for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_test_modules_have_unique_basenames():
    seen: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


@pytest.mark.parametrize(
    "command", [["format", "--check", "."], ["check", "."]], ids=["format", "lint"]
)
def test_ruff_is_clean(command):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is in the test extras (pip install -e '.[test]')"
    result = subprocess.run([ruff, *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


# --- helpers -----------------------------------------------------------------------------------


def _code_folders() -> list[Path]:
    folders = []
    for package in PACKAGES:
        for folder in [ROOT / package, *(ROOT / package).rglob("*")]:
            if folder.is_dir() and "migrations" not in folder.parts and list(folder.glob("*.py")):
                folders.append(folder)
    return folders


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(tree: ast.AST) -> list[tuple[str, list[str]]]:
    """(module, names) of every import, inside functions too, except under ``if TYPE_CHECKING:``."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.orelse:
                    visit(statement)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, []) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, [alias.name for alias in child.names]))
            visit(child)

    visit(tree)
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for module, names in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            submodules = {f"{module}.{n}" for n in names} & modules.keys()
            edges |= submodules or ({module} & modules.keys())
        graph[name] = edges - {name}
    return graph


def _import_names(package: str) -> dict[str, set[str]]:
    return {
        name: {
            module.split(".")[0]
            for module, _ in _imported(ast.parse(path.read_text(encoding="utf-8")))
        }
        for name, path in _modules().items()
        if name.split(".")[0] == package
    }


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: the sets of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components
