# SPDX-License-Identifier: GPL-3.0-or-later
"""A Blender shader node tree → the flat node graph of scene dict version 2
(`{"nodes", "links", "output"}`, docs/design/shading-graph.md), flattened as Blender and
Cycles evaluate the tree.

- Only nodes that reach the output are kept. Node keys are `node.name`, prefixed with the
  path of group nodes for nodes inlined from node groups (`"Group/Inner/Noise Texture"`); a
  key already taken (a node named with a "/") gets " (2)", " (3)", ….
- Node groups are inlined recursively; Group Input and Group Output nodes dissolve: a group
  input left unlinked on the group node gives the group node's socket value, a group output
  left unlinked inside the group gives the Group Output socket's value (as Cycles' proxies).
- Reroutes are followed; muted nodes are replaced by their internal links (`internal_links`,
  what Blender computes and draws); an output without an internal link, or one whose internal
  input is unlinked, leaves the socket it feeds unlinked (its own value), as Blender relinks
  around muted nodes.
- Invalid links (cycles, incompatible types), muted links and links from or to unavailable
  sockets are dropped: the socket they fed keeps its own value.
- A node whose type is not in `evaluable` (the core's registry), or whose settings the registry
  marks as not evaluated (`partial`), is treated as muted, reported
  once per graph and node type, and recorded in `Extracted.approximated`.
- Unlinked inputs give their values by socket identifier (float, int, bool, 3 floats for
  vectors, 4 for colours). Inputs whose value Blender hides (`hide_value`: a texture's Vector,
  a BSDF's Normal, Bump's Height) are left out: the core uses their implicit value, as Cycles.
  A constant that crosses a group boundary is converted to the receiving socket's type as
  Cycles converts it (colour → float: Rec.709 luminance; vector → float: average; float →
  colour/vector: splat).

The walk is plain Python over the reachable nodes and their sockets; what costs more (baked
curves) is deferred (`node_params.Deferred`) until `Extracted.finish()`, so an unchanged
graph is recognised by `Extracted.digest()` without being finished again.
"""

from __future__ import annotations

import hashlib
from collections import deque

from .node_params import Deferred, read_params

GROUP_TYPES = frozenset({"ShaderNodeGroup", "ShaderNodeCustomGroup"})
_MAX_HOPS = 10_000  # links followed for one input (reroutes, muted nodes, group boundaries)
_MAX_GROUP_DEPTH = 64
_LUMA = (0.2126729, 0.7151522, 0.0721750)  # scene-linear Rec.709 → Y: Cycles' colour → float


class Requests:
    """Mesh data the graph's nodes read (mesh.py exports it for meshes using the material):
    UV maps whose MikkTSpace tangents are needed (Normal Map in tangent space, Tangent by UV
    map) and attribute names (Attribute, Color Attribute); "" names the render-active UV map
    or colour attribute."""

    __slots__ = ("tangents", "attributes")

    def __init__(self, tangents=(), attributes=()):
        self.tangents = frozenset(tangents)
        self.attributes = frozenset(attributes)

    def __or__(self, other: Requests) -> Requests:
        return Requests(self.tangents | other.tangents, self.attributes | other.attributes)

    @staticmethod
    def union(requests) -> Requests:
        out = Requests()
        for r in requests:
            out = out | r
        return out

    def __bool__(self) -> bool:
        return bool(self.tangents or self.attributes)

    def __eq__(self, other) -> bool:
        return isinstance(other, Requests) and (self.tangents, self.attributes) == (other.tangents, other.attributes)

    def __hash__(self) -> int:
        return hash((self.tangents, self.attributes))

    def __repr__(self) -> str:
        return f"Requests(tangents={sorted(self.tangents)}, attributes={sorted(self.attributes)})"


class Extracted:
    """A walked graph: `nodes`, `links`, `output` as in the scene dict, except that costly
    parameters are still `Deferred`; `approximated`: the node types treated as muted;
    `requests`: the mesh data its nodes read."""

    __slots__ = ("nodes", "links", "output", "approximated", "requests")

    def __init__(self, nodes: dict, links: list, output: str, approximated=(), requests: Requests | None = None):
        self.nodes = nodes
        self.links = links
        self.output = output
        self.approximated = tuple(sorted(approximated))
        self.requests = requests or Requests()

    def digest(self) -> bytes:
        """Names the graph's content (deferred parameters by their keys)."""
        return hashlib.sha1(repr((self.output, self.nodes, self.links)).encode()).digest()

    def finish(self) -> dict:
        """The scene-dict graph, deferred parameters made."""
        nodes = {}
        for key, node in self.nodes.items():
            params = node["params"]
            if any(isinstance(v, Deferred) for v in params.values()):
                params = {k: (v.make() if isinstance(v, Deferred) else v) for k, v in params.items()}
                node = dict(node, params=params)
            nodes[key] = node
        return {"nodes": nodes, "links": self.links, "output": self.output}


def single_node_graph(node_type: str, inputs: dict, output_type: str, output_socket: str) -> Extracted:
    """A graph of one shader node into an output node (materials without a node tree, worlds
    without one)."""
    shader_out = "Background" if node_type == "ShaderNodeBackground" else "BSDF"
    nodes = {
        node_type: {"type": node_type, "params": {}, "inputs": dict(inputs)},
        output_type: {"type": output_type, "params": {}, "inputs": {}},
    }
    return Extracted(nodes, [[node_type, shader_out, output_type, output_socket]], output_type)


def empty_graph(output_type: str) -> Extracted:
    """An output node with nothing linked: black, as Cycles renders a tree without an output."""
    return Extracted({output_type: {"type": output_type, "params": {}, "inputs": {}}}, [], output_type)


def extract(output_node, evaluable, subject: str, texture, report) -> Extracted:
    """The graph reaching `output_node` (the active output of its tree).

    `evaluable`: the node types the core evaluates (a set or the registry dict); `subject`:
    "Material 'Wood'" for messages; `texture(image_node)` → a texture name or None (missing
    image); `report(level, key, message)` says a message once per key."""
    walk = _Walk(evaluable, subject, texture, report)
    output = walk.run(output_node)
    return Extracted(walk.nodes, walk.links, output, walk.approximated, Requests(walk.tangents, walk.attributes))


# ---------------------------------------------------------------------------------------------


class _Scope:
    """Where a node sits: the key prefix and the group node it was inlined from."""

    __slots__ = ("prefix", "group_node", "parent", "depth")

    def __init__(self, prefix="", group_node=None, parent=None, depth=0):
        self.prefix = prefix
        self.group_node = group_node
        self.parent = parent
        self.depth = depth

    def inside(self, group_node) -> _Scope:
        return _Scope(f"{self.prefix}{group_node.name}/", group_node, self, self.depth + 1)


class _Upstream:
    """A real node's output feeding an input."""

    __slots__ = ("node", "socket", "scope")

    def __init__(self, node, socket, scope):
        self.node = node
        self.socket = socket
        self.scope = scope


def _internal_source(node, output_socket):
    """The input of `node` its internal link passes to `output_socket`, or None."""
    ident = output_socket.identifier
    for link in node.internal_links:
        if link.to_socket.identifier == ident and not link.from_socket.is_unavailable:
            return link.from_socket
    return None


def _active_group_output(tree):
    found = None
    for node in tree.nodes:
        if node.bl_idname == "NodeGroupOutput":
            if node.is_active_output:
                return node
            found = found or node
    return found


def _socket_by_identifier(sockets, ident):
    for s in sockets:
        if s.identifier == ident:
            return s
    return None


def socket_value(socket):
    """The value of an unlinked socket in scene-dict form, or None (no value: shaders and
    types the graph does not carry)."""
    kind = socket.type
    if kind == "VALUE":
        return float(socket.default_value)
    if kind == "RGBA":
        return [float(v) for v in socket.default_value]
    if kind == "VECTOR":
        return [float(v) for v in socket.default_value]
    if kind == "INT":
        return int(socket.default_value)
    if kind == "BOOLEAN":
        return bool(socket.default_value)
    return None


def convert_value(value, to_kind: str):
    """`value` (float, int, bool, 3 or 4 floats) as a value of socket type `to_kind`, as
    Cycles converts constants between socket types; None when it has no such form."""
    if isinstance(value, list):
        if to_kind == "RGBA":
            return (value + [1.0])[:4] if len(value) == 3 else list(value)
        if to_kind == "VECTOR":
            return list(value[:3])
        if len(value) == 4:
            scalar = sum(c * w for c, w in zip(value[:3], _LUMA, strict=True))
        else:
            scalar = (value[0] + value[1] + value[2]) / 3.0
    else:
        scalar = float(value)
        if to_kind == "RGBA":
            return [scalar, scalar, scalar, 1.0]
        if to_kind == "VECTOR":
            return [scalar, scalar, scalar]
    if to_kind == "VALUE":
        return scalar
    if to_kind == "INT":
        return int(scalar)
    if to_kind == "BOOLEAN":
        return scalar != 0.0
    return None


class _Walk:
    def __init__(self, evaluable, subject, texture, report):
        self.evaluable = evaluable
        self.subject = subject
        self.texture = texture
        self.report = report
        self.nodes: dict = {}
        self.links: list = []
        self.approximated: set = set()
        self.tangents: set = set()
        self.attributes: set = set()
        self._pending: deque = deque()
        self._keys: dict = {}  # (node pointer, scope prefix) -> key
        self._links_into: dict = {}  # tree pointer -> {input socket pointer: live link}

    def run(self, output_node) -> str:
        root = _Scope()
        key = self._node_key(output_node, root)
        while self._pending:
            node, node_key, scope = self._pending.popleft()
            self.nodes[node_key] = self._node_dict(node, node_key, scope)
        return key

    def _node_key(self, node, scope) -> str:
        """The graph key of `node` inlined at `scope`, queued for conversion when new."""
        ident = (node.as_pointer(), scope.prefix)
        key = self._keys.get(ident)
        if key is None:
            key = base = scope.prefix + node.name
            n = 1
            while key in self.nodes:  # a name containing "/" can meet an inlined node's key
                n += 1
                key = f"{base} ({n})"
            self._keys[ident] = key
            self.nodes[key] = None  # keeps the output-first order; filled by run()
            self._pending.append((node, key, scope))
        return key

    def _node_dict(self, node, key, scope) -> dict:
        inputs = {}
        for socket in node.inputs:
            if socket.is_unavailable:
                continue
            src = self._source(socket, scope)
            if isinstance(src, _Upstream):
                self.links.append([self._node_key(src.node, src.scope), src.socket.identifier, key, socket.identifier])
                continue
            if src is not socket and not src.hide_value:
                value = socket_value(src)
                value = None if value is None else convert_value(value, socket.type)
            else:
                value = None if socket.hide_value else socket_value(socket)
            if value is not None:
                inputs[socket.identifier] = value
        params = read_params(node, self.texture)
        self._note_requests(node.bl_idname, params)
        return {"type": node.bl_idname, "params": params, "inputs": inputs}

    def _note_requests(self, node_type: str, params: dict) -> None:
        if node_type == "ShaderNodeNormalMap" and params.get("space") == "TANGENT":
            self.tangents.add(params.get("uv_map", ""))
        elif node_type == "ShaderNodeTangent" and params.get("direction_type") == "UV_MAP":
            self.tangents.add(params.get("uv_map", ""))
        elif node_type == "ShaderNodeAttribute" and params.get("attribute_type") == "GEOMETRY":
            self.attributes.add(params.get("attribute_name", ""))
        elif node_type == "ShaderNodeVertexColor":
            self.attributes.add(params.get("layer_name", ""))

    def _live_link(self, socket):
        """The link into input `socket` that Blender evaluates, or None."""
        if not socket.is_linked:
            return None
        tree = socket.id_data
        index = self._links_into.get(tree.as_pointer())
        if index is None:  # NodeSocket.links scans every link of the tree: index them once
            index = self._links_into[tree.as_pointer()] = {
                link.to_socket.as_pointer(): link
                for link in tree.links
                if link.is_valid and not link.is_muted and not link.from_socket.is_unavailable
            }
        return index.get(socket.as_pointer())

    def _source(self, socket, scope):
        """What feeds input `socket`: an `_Upstream` real node output, or the socket whose
        value the input takes — `socket` itself when nothing feeds it, or the group node /
        Group Output socket a group boundary hands over."""
        target = fallback = socket
        for _ in range(_MAX_HOPS):
            link = self._live_link(socket)
            if link is None:
                return fallback
            node, out = link.from_node, link.from_socket
            kind = node.bl_idname
            if kind == "NodeReroute":
                socket = node.inputs[0]
            elif node.mute:
                socket = _internal_source(node, out)
            elif kind == "NodeGroupInput":
                socket = (
                    None if scope.group_node is None else _socket_by_identifier(scope.group_node.inputs, out.identifier)
                )
                scope = scope.parent
                fallback = socket
            elif kind in GROUP_TYPES:
                socket, scope = self._group_output_socket(node, out, scope)
                fallback = socket
            elif kind not in self.evaluable or not self._settings_evaluable(node):
                self._approximate(node)
                socket = _internal_source(node, out)
            else:
                return _Upstream(node, out, scope)
            if socket is None:
                return target if fallback is None else fallback
        self.report(
            "WARNING",
            ("graph-loop", self.subject),
            f"{self.subject}: a link chain longer than {_MAX_HOPS} links was cut",
        )
        return fallback

    def _group_output_socket(self, group_node, out, scope):
        """(the Group Output input behind output `out` of `group_node`, the inner scope);
        (None, scope) when the group has no tree or output."""
        tree = group_node.node_tree
        if tree is None:
            return None, scope
        if scope.depth >= _MAX_GROUP_DEPTH:
            self.report(
                "WARNING",
                ("graph-depth", self.subject),
                f"{self.subject}: node groups nested deeper than {_MAX_GROUP_DEPTH} levels are cut",
            )
            return None, scope
        group_output = _active_group_output(tree)
        if group_output is None:
            return None, scope
        return _socket_by_identifier(group_output.inputs, out.identifier), scope.inside(group_node)

    def _settings_evaluable(self, node) -> bool:
        """False for a node the core renders with some settings only (its registry entry's
        `partial`: an enum param and the values evaluated; no node has one since every Sky
        Texture type is evaluated) set to another."""
        entry = self.evaluable.get(node.bl_idname) if isinstance(self.evaluable, dict) else None
        partial = entry.get("partial") if entry else None
        return partial is None or getattr(node, partial["param"]) in partial["values"]

    def _approximate(self, node) -> None:
        kind = node.bl_idname
        self.approximated.add(kind)
        self.report(
            "WARNING",
            ("node-unsupported", self.subject, kind),
            f"{self.subject}: {node.bl_label or kind} nodes ({kind}) are not supported by Optica; rendered as if muted",
        )
