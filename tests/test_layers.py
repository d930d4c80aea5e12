# SPDX-License-Identifier: GPL-3.0-or-later
"""The layering of the Blender side, read from the source with `ast` (nothing is imported):
the root registers ui → addon (the engine) → operators, and a module imports only from its own
layer, lower layers and the core; the core's frame sinks never import bpy; the converters never
import the renderer."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("ui", "addon", "operators")  # lowest first


def _modules(base: Path, package: str):
    """(dotted module name, path) of every .py file under `base` (named from `package`)."""
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        yield ".".join([package, *parts]), path


def imports_of(name: str, path: Path, is_package: bool) -> set[str]:
    """The absolute module names `path` imports (relative imports resolved against `name`)."""
    tree = ast.parse(path.read_text(), str(path))
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                anchor = here[: len(here) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "optica" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def violations(package_root: Path) -> list[str]:
    """Every import of a higher layer by a lower one under `package_root` (an extension root)."""
    found = []
    for layer in LAYERS:
        for name, path in _modules(package_root / layer, f"optica.{layer}"):
            mine = LAYERS.index(layer)
            for imported in imports_of(name, path, path.name == "__init__.py"):
                other = layer_of(imported)
                if other is not None and other > mine:
                    found.append(f"{path.relative_to(package_root)} imports {imported} (layer {LAYERS[other]})")
    return found


def test_lower_layers_never_import_higher_ones():
    assert violations(ROOT) == []


def test_the_checker_finds_a_violation(tmp_path):
    """The same check on a made-up package where ui imports the engine and the operators."""
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    (tmp_path / "ui" / "panel.py").write_text("from ..addon import final\nfrom ..operators.export import run\n")
    (tmp_path / "operators" / "op.py").write_text("from ..addon import final\nfrom ..ui import panel\n")
    found = violations(tmp_path)
    assert {f.split(" imports ")[0] for f in found} == {"ui/panel.py"}  # the operators may import both
    assert "ui/panel.py imports optica.addon.final (layer addon)" in found
    assert "ui/panel.py imports optica.operators.export.run (layer operators)" in found


def test_root_registers_the_layers_in_order():
    tree = ast.parse((ROOT / "__init__.py").read_text())
    layers = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_layers")
    ret = next(n for n in ast.walk(layers) if isinstance(n, ast.Return))
    assert [e.id for e in ret.value.elts] == list(LAYERS)


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("native/optica_core/sinks", "bpy"),  # the core never imports Blender
        ("addon/export", "optica_core"),  # converters never call the renderer
    ],
)
def test_modules_that_must_not_import(folder, forbidden):
    base = ROOT / folder
    bad = []
    for name, path in _modules(base, folder.replace("/", ".")):
        imported = imports_of(name, path, path.name == "__init__.py")
        if any(m == forbidden or m.startswith(forbidden + ".") for m in imported):
            bad.append(str(path.relative_to(ROOT)))
    assert bad == []
