# SPDX-License-Identifier: GPL-3.0-or-later
"""The scene's world → `world` of the scene dict.

Scene dict version 2 (`world_graph`): the world's node tree as a graph (shader_graph.py) into
its World Output; a world without a node tree is a Background of its viewport colour, no world
Blender's default grey, a tree without a World Output black — as Cycles.

Version 1 (`convert_world`), a uniform background: the Background node linked to the active
World Output gives colour and strength (radiance = colour · strength, as Cycles). Inputs
linked to other nodes (a sky or an environment texture) use the node's own value, said
once; a world that is not a Background node uses its viewport colour. A scene without a world
gets Blender's default world.
"""

from __future__ import annotations

from .shader_graph import Extracted, extract

DEFAULT_WORLD = {"color": [0.050876, 0.050876, 0.050876], "strength": 1.0}


def active_output(tree, idname: str):
    """The output node of type `idname` Cycles uses (`ntreeShaderOutputNode`): among those
    for all engines or for Cycles, one for Cycles before one for all, the active one first;
    None when there is none."""
    best = None
    for n in tree.nodes:
        if n.bl_idname != idname or getattr(n, "target", "ALL") not in ("ALL", "CYCLES"):
            continue
        if best is None:
            best = n
        elif best.target == "ALL" and n.target == "CYCLES":
            best = n
        elif best.target == n.target and n.is_active_output and not best.is_active_output:
            best = n
    return best


def source_socket(socket):
    """The output socket feeding input `socket`, through reroutes; None when unlinked (or
    linked through a muted or invalid link)."""
    for _ in range(64):
        if not socket.is_linked:
            return None
        link = socket.links[0]
        if not link.is_valid or link.is_muted:
            return None
        if link.from_node.bl_idname != "NodeReroute":
            return link.from_socket
        socket = link.from_node.inputs[0]
    return None


def source_node(socket):
    """The node feeding input `socket` (see `source_socket`), or None."""
    s = source_socket(socket)
    return None if s is None else s.node


def world_graph(b_world, evaluable, texture, report, use_nodes: bool = True) -> Extracted:
    """The version-2 graph of the scene's evaluated world (`Extracted.finish()` gives `world`);
    arguments as materials.material_graph; `use_nodes` False gives the viewport-colour
    Background a world without a node tree has."""
    if b_world is None or b_world.node_tree is None or not use_nodes:
        color = DEFAULT_WORLD["color"] if b_world is None else [max(0.0, float(c)) for c in b_world.color[:3]]
        nodes = {
            "Background": {
                "type": "ShaderNodeBackground",
                "params": {},
                "inputs": {"Color": [*color, 1.0], "Strength": 1.0},
            },
            "World Output": {"type": "ShaderNodeOutputWorld", "params": {}, "inputs": {}},
        }
        return Extracted(nodes, [["Background", "Background", "World Output", "Surface"]], "World Output")
    output = active_output(b_world.node_tree, "ShaderNodeOutputWorld")
    if output is None:
        return Extracted(
            {"World Output": {"type": "ShaderNodeOutputWorld", "params": {}, "inputs": {}}}, [], "World Output"
        )
    label = f"World '{b_world.name}'"
    return extract(output, evaluable, label, lambda node: texture(node, label), report)


def convert_world(b_world, report) -> dict:
    if b_world is None:
        return dict(DEFAULT_WORLD, color=list(DEFAULT_WORLD["color"]))
    name = b_world.name
    fallback = {"color": [max(0.0, float(c)) for c in b_world.color[:3]], "strength": 1.0}
    tree = b_world.node_tree
    output = active_output(tree, "ShaderNodeOutputWorld") if tree is not None else None
    if output is None:
        return fallback
    node = source_node(output.inputs["Surface"])
    if node is None:
        return {"color": [0.0, 0.0, 0.0], "strength": 0.0}  # nothing linked: black, as Cycles
    if node.bl_idname != "ShaderNodeBackground":
        report(
            "WARNING",
            ("world", name, node.bl_idname),
            f"World '{name}': {node.bl_idname} is not supported (only a Background node); "
            "using the world's viewport colour",
        )
        return fallback
    color_in, strength_in = node.inputs["Color"], node.inputs["Strength"]
    for sock in (color_in, strength_in):
        src = source_node(sock)
        if src is not None:
            report(
                "WARNING",
                ("world", name, sock.name),
                f"World '{name}': Background {sock.name} from {src.bl_idname} is not supported; "
                "using the input's own value",
            )
    return {
        "color": [max(0.0, float(c)) for c in color_in.default_value[:3]],
        "strength": max(0.0, float(strength_in.default_value)),
    }
