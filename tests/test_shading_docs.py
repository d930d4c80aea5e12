# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/shading.md cannot go stale: every shader node type of Blender's Add menu has a row,
a row says the core evaluates a node exactly when its registry does, and the tests the rows
name exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")
import optica_core as oc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "shading.md"
TEST_FILES = {"nodes": "test_nodes_vs_cycles.py", "procedural": "test_procedural_vs_cycles.py",
              "closures": "test_closures_vs_cycles.py"}


def add_menu_node_types() -> set:
    """The `ShaderNode…` types Blender 5.0's shader Add menus offer (bl_ui's menu classes)."""
    import bl_ui.node_add_menu_shader as menus

    types = set(re.findall(r'"(ShaderNode\w+)"', inspect.getsource(menus)))
    assert len(types) > 80, "the Add menu module no longer names its node types this way"
    return types


def doc_rows() -> dict:
    """{bl_idname: status} of the tables' rows (status: the third column)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4:
            found = re.match(r"`(ShaderNode\w+)`", cells[1])
            if found:
                rows[found.group(1)] = cells[2]
    return rows


def test_every_add_menu_node_has_a_row():
    missing = sorted(add_menu_node_types() - set(doc_rows()))
    assert not missing, f"docs/shading.md lacks rows for {missing}"


def test_rows_agree_with_the_registry():
    """'As muted' exactly for the node types the core does not evaluate."""
    material = bpy.data.materials.new("docs")
    problems = []
    for ident, status in doc_rows().items():
        created = material.node_tree.nodes.new(ident).bl_idname  # the menu's Glossy is made as Anisotropic
        evaluated = created in oc.shading.NODE_TYPES
        if status.startswith("see world"):
            continue
        if evaluated == status.startswith("As muted"):
            problems.append(f"{ident}: the doc says {status!r}, the registry {'has' if evaluated else 'lacks'} it")
    bpy.data.materials.remove(material)
    assert not problems, "\n".join(problems)


def test_named_tests_exist():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(nodes|procedural|closures)::(test_\w+)`", text))
    assert named
    missing = []
    for module, name in named:
        source = (ROOT / "tests" / TEST_FILES[module]).read_text(encoding="utf-8")
        if f"def {name}(" not in source:
            missing.append(f"{module}::{name}")
    assert not missing, f"docs/shading.md names tests that do not exist: {missing}"
