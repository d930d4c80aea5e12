"""The node types the core evaluates: for each Blender shader node (`bl_idname`) its input
sockets (identifier, socket type, default), outputs, parameters (allowed values, default)
and the function that compiles it. `NODE_TYPES` is the plain-data view the converters read
(docs/design/shading-graph.md); node modules add their definitions with `define()`.

Socket types are Blender's (`socket.type`): VALUE, INT, BOOLEAN, VECTOR, RGBA, ROTATION,
SHADER. Defaults are Blender 5.0's socket defaults (a test compares them with real bpy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

SOCKET_TYPES = ("VALUE", "INT", "BOOLEAN", "VECTOR", "RGBA", "ROTATION", "SHADER")
DATA_SOCKETS = frozenset(SOCKET_TYPES) - {"SHADER"}
# How many floats a socket value takes in a program.
SOCKET_WIDTH = {"VALUE": 1, "INT": 1, "BOOLEAN": 1, "VECTOR": 3, "RGBA": 3, "ROTATION": 3}


@dataclass(frozen=True)
class Socket:
    type: str
    default: Any = None


@dataclass(frozen=True)
class Param:
    """kind: "enum" (values), "bool", "float", "int", "string", "vector", "color", "image",
    "matrix" (4×4 or None), or a kind another module registered in PARAM_KINDS."""

    kind: str
    default: Any = None
    values: tuple = ()


@dataclass
class NodeDef:
    type: str
    inputs: dict[str, Socket]
    outputs: dict[str, str]
    params: dict[str, Param]
    compile: Callable
    description: str = ""
    extra: dict = field(default_factory=dict)
    partial: tuple | None = None  # (enum param, values evaluated): the other values are not


DEFINITIONS: dict[str, NodeDef] = {}
NODE_TYPES: dict[str, dict] = {}


def define(type_: str, *, inputs=None, outputs=None, params=None, description: str = "", partial=None):
    """Decorator registering `fn(nc)` as the compile function of node type `type_`.

    inputs: {identifier: (socket type, default)}; outputs: {identifier: socket type};
    params: {name: Param}; partial: (enum param, evaluated values) for a node the core renders
    with some settings only (a converter treats it as muted with the others). The plain-data
    entry of NODE_TYPES is built from the same.
    """
    def register(fn):
        node = NodeDef(type_, {k: Socket(*v) for k, v in (inputs or {}).items()}, dict(outputs or {}),
                       dict(params or {}), fn, description, partial=partial)
        if type_ in DEFINITIONS:
            raise RuntimeError(f"node type {type_} defined twice")
        DEFINITIONS[type_] = node
        NODE_TYPES[type_] = _plain(node)
        return fn
    return register


def enum(values: str, default: str | None = None) -> Param:
    items = tuple(values.split())
    return Param("enum", default if default is not None else items[0], items)


def _plain(node: NodeDef) -> dict:
    def param(p: Param) -> dict:
        out = {"kind": p.kind, "default": p.default}
        if p.kind == "enum":
            out["values"] = p.values
        return out
    return {
        "inputs": {k: {"type": s.type, "default": s.default} for k, s in node.inputs.items()},
        "outputs": dict(node.outputs),
        "params": {k: param(p) for k, p in node.params.items()},
        "description": node.description,
        **({"partial": {"param": node.partial[0], "values": tuple(node.partial[1])}} if node.partial else {}),
    }
