"""Shader node graphs: the registry of node types the core evaluates (`NODE_TYPES`), their
validation (graph.py) and their compilation to flat programs (compiler.py).

Adding a node: its opcode and kernel code (native/src/kernel/svm/), and a `define()`d compile
function in the module of its category under nodes/ (docs/scene-dict.md, "Shader graphs").
"""

from . import nodes  # noqa: F401  (registers the definitions)
from .compiler import Program, compile_graph
from .graph import PARAM_KINDS, validate_graph
from .registry import DEFINITIONS, NODE_TYPES

__all__ = ["NODE_TYPES", "DEFINITIONS", "PARAM_KINDS", "Program", "compile_graph", "validate_graph"]
