"""Validation and normalisation of a shader node graph (a material, or the world) in the
scene dictionary (docs/scene-dict.md, "Shader graphs").

`validate_graph` checks every node, socket value, parameter and link against the registry
and returns the normalised graph: every node with all its data inputs and parameters
present (defaults filled in), colours as 3-tuples, links as 4-tuples. Problems raise
`ValueError` whose message starts with the key path naming the material and the node, e.g.
``materials['Wood'].nodes['Mix'].params.blend_type: 'SHINY' is not one of 'MIX', ...``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import values as v
from .registry import DEFINITIONS, NodeDef

OUTPUT_TYPES = {"material": "ShaderNodeOutputMaterial", "world": "ShaderNodeOutputWorld"}
_GRAPH_KEYS = {"material": ("nodes", "links", "output", "pass_index"), "world": ("nodes", "links", "output")}
_NODE_KEYS = ("type", "inputs", "params")


def _read_socket_value(socket_type: str, value, path: str):
    if socket_type == "VALUE":
        return v.read_float(value, path)
    if socket_type == "INT":
        return v.read_int(value, path)
    if socket_type == "BOOLEAN":
        if not isinstance(value, (bool, np.bool_)):
            v.fail(path, f"expected a bool, got {v.show(value)}")
        return bool(value)
    if socket_type == "RGBA":
        n = len(value) if isinstance(value, (list, tuple, np.ndarray)) else 0
        return v.read_floats(value, path, 4 if n == 4 else 3)[:3]
    if socket_type in ("VECTOR", "ROTATION"):
        return v.read_floats(value, path, 3)
    v.fail(path, "a shader socket takes no value (link a shader node into it)")


def _read_enum(value, path: str, values: tuple) -> str:
    if not isinstance(value, str) or value not in values:
        v.fail(path, f"{v.show(value)} is not one of {', '.join(map(repr, values))}")
    return value


def _read_bool(value, path: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        v.fail(path, f"expected a bool, got {v.show(value)}")
    return bool(value)


def _read_string(value, path: str) -> str:
    if not isinstance(value, str):
        v.fail(path, f"expected a string, got {v.show(value)}")
    return value


def _read_color(value, path: str) -> tuple:
    n = len(value) if isinstance(value, (list, tuple, np.ndarray)) else 0
    return v.read_floats(value, path, 4 if n == 4 else 3)[:3]


def _read_matrix_or_none(value, path: str):
    return None if value is None else v.read_matrix(value, path)


# Readers of parameter values by kind: (value, key path, param, textures) -> normalised value.
# Modules adding node data kinds (colour ramps, curves) register theirs here.
PARAM_KINDS: dict[str, Callable[[Any, str, Any, Any], Any]] = {
    "enum": lambda value, path, p, _: _read_enum(value, path, p.values),
    "bool": lambda value, path, p, _: _read_bool(value, path),
    "float": lambda value, path, p, _: v.read_float(value, path),
    "int": lambda value, path, p, _: v.read_int(value, path),
    "string": lambda value, path, p, _: _read_string(value, path),
    "vector": lambda value, path, p, _: v.read_floats(value, path, 3),
    "color": lambda value, path, p, _: _read_color(value, path),
    "image": lambda value, path, p, textures: v.read_name(value, path, textures, "texture"),
    "matrix": lambda value, path, p, _: _read_matrix_or_none(value, path),
}


def validate_graph(d, path: str, kind: str, textures, check_keys) -> dict:
    """The normalised graph of `d`; `check_keys(d, path, allowed, required)` reports unknown
    keys (error or warning, as the scene validation is configured)."""
    check_keys(d, path, _GRAPH_KEYS[kind], required=("nodes", "output"))
    nodes_in = d["nodes"]
    if not isinstance(nodes_in, dict):
        v.fail(f"{path}.nodes", f"expected a dict of node name -> node, got {type(nodes_in).__name__}")
    nodes = {}
    for key, node in nodes_in.items():
        node_path = f"{path}.nodes[{key!r}]"
        if not isinstance(key, str) or not key:
            v.fail(node_path, "node names must be non-empty strings")
        nodes[key] = _node(node, node_path, textures, check_keys)
    links = _links(d.get("links", []), f"{path}.links", nodes)
    output = d["output"]
    expected = OUTPUT_TYPES[kind]
    if not isinstance(output, str) or output not in nodes:
        v.fail(f"{path}.output", f"expected the name of a {expected} node, got {v.show(output)}")
    if nodes[output]["type"] != expected:
        v.fail(f"{path}.output", f"node {output!r} is a {nodes[output]['type']}, not a {expected}")
    _check_acyclic(nodes, links, path)
    out = {"nodes": nodes, "links": links, "output": output}
    if kind == "material":
        out["pass_index"] = v.read_int(d.get("pass_index", 0), f"{path}.pass_index")
    return out


def _node(d, path: str, textures, check_keys) -> dict:
    check_keys(d, path, _NODE_KEYS, required=("type",))
    type_ = d["type"]
    if not isinstance(type_, str) or type_ not in DEFINITIONS:
        v.fail(f"{path}.type", f"unknown node type {v.show(type_)} (optica_core.shading.NODE_TYPES lists the "
                               f"evaluable ones)")
    node: NodeDef = DEFINITIONS[type_]
    given_inputs = d.get("inputs", {})
    check_keys(given_inputs, f"{path}.inputs", node.inputs, kind=f" for a {type_}")
    inputs = {}
    for name, socket in node.inputs.items():
        if socket.type == "SHADER":
            if name in given_inputs:
                _read_socket_value("SHADER", given_inputs[name], f"{path}.inputs[{name!r}]")
            continue
        value = given_inputs.get(name, socket.default)
        inputs[name] = _read_socket_value(socket.type, value, f"{path}.inputs[{name!r}]")
    given_params = d.get("params", {})
    check_keys(given_params, f"{path}.params", node.params, kind=f" for a {type_}")
    params = {}
    for name, param in node.params.items():
        value = given_params.get(name, param.default)
        params[name] = PARAM_KINDS[param.kind](value, f"{path}.params.{name}", param, textures)
    return {"type": type_, "inputs": inputs, "params": params}


def _links(value, path: str, nodes: dict) -> list:
    if not isinstance(value, (list, tuple)):
        v.fail(path, f"expected a list of [from_node, from_socket, to_node, to_socket], got {v.show(value)}")
    links, seen = [], {}
    for i, link in enumerate(value):
        link_path = f"{path}[{i}]"
        if not isinstance(link, (list, tuple)) or len(link) != 4 or not all(isinstance(x, str) for x in link):
            v.fail(link_path, f"expected [from_node, from_socket, to_node, to_socket] (strings), got {v.show(link)}")
        src, src_socket, dst, dst_socket = link
        for node_name in (src, dst):
            if node_name not in nodes:
                v.fail(link_path, f"no node named {node_name!r}")
        src_def, dst_def = DEFINITIONS[nodes[src]["type"]], DEFINITIONS[nodes[dst]["type"]]
        if src_socket not in src_def.outputs:
            v.fail(link_path, f"node {src!r} ({src_def.type}) has no output {src_socket!r} "
                              f"(outputs: {', '.join(map(repr, src_def.outputs))})")
        if dst_socket not in dst_def.inputs:
            v.fail(link_path, f"node {dst!r} ({dst_def.type}) has no input {dst_socket!r} "
                              f"(inputs: {', '.join(map(repr, dst_def.inputs))})")
        from_shader = src_def.outputs[src_socket] == "SHADER"
        to_shader = dst_def.inputs[dst_socket].type == "SHADER"
        if from_shader != to_shader:
            what = "a shader output into a data input" if from_shader else "a data output into a shader input"
            v.fail(link_path, f"links {what}: {src!r}.{src_socket} -> {dst!r}.{dst_socket}")
        if (dst, dst_socket) in seen:
            v.fail(link_path, f"input {dst!r}.{dst_socket} already has a link (links[{seen[(dst, dst_socket)]}])")
        seen[(dst, dst_socket)] = i
        links.append((src, src_socket, dst, dst_socket))
    return links


def _check_acyclic(nodes: dict, links: list, path: str) -> None:
    """Depth-first search over the links; a back edge is a cycle, reported with its nodes."""
    successors: dict[str, list] = {name: [] for name in nodes}
    for src, _, dst, _ in links:
        successors[src].append(dst)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in nodes:
        if state.get(start):
            continue
        stack = [(start, iter(successors[start]))]
        trail = [start]
        state[start] = 1
        while stack:
            name, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[name] = 2
                stack.pop()
                trail.pop()
                continue
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt]
                v.fail(f"{path}.links", "the node graph has a cycle: " + " -> ".join(map(repr, cycle)))
            if not state.get(nxt):
                state[nxt] = 1
                trail.append(nxt)
                stack.append((nxt, iter(successors[nxt])))
