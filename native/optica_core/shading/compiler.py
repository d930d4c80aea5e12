"""Compiles a normalised shader graph into a flat program, as Cycles' SVM compiles a node
tree: only nodes that reach the output are compiled, each after its inputs (depth first from
the output), values live in stack slots that are reused once their last reader has run,
instructions whose inputs are all constants are run at compile time (constant folding, in the
native interpreter, so there is one copy of every node's maths), implicit socket conversions
are inserted as Cycles does them, and the subgraph under a Bump node's Height is compiled
three times, at the shading point and at two points offset across the surface.

A node's compile function (shading/nodes/) sees a `NodeCompiler`: it reads its inputs and
parameters, asks for its outputs and emits instructions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from . import isa
from .registry import DEFINITIONS, SOCKET_WIDTH

# Program flags (kernel/scene_data.h ProgramFlags).
EMISSIVE, TRANSPARENT, HOLDOUT = 1, 2, 4
# Attribute request kinds (src/scene.h AttributeKind).
ATTRIBUTE_KINDS = ("uv", "color", "attribute", "tangent")
BUMP_CENTER, BUMP_DX, BUMP_DY = 0, 1, 2


@dataclass
class Program:
    """A compiled graph: what the native core needs to run it."""

    code: np.ndarray
    constants: np.ndarray
    textures: list  # program texture -> texture name (None: no image)
    attributes: list  # program attribute -> (kind, name)
    flags: int
    emission_estimate: tuple
    pass_index: float = 0.0
    constant_emission: tuple | None = None  # the whole program is a constant emission/background
    # A world's sun disc (direction x, y, z, half angle in radians) for light sampling to aim at,
    # as Cycles guides a sun light to its sky's disc; None when there is none.
    sun_guide: tuple | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "constants": self.constants, "textures": list(self.textures),
                "attributes": [list(a) for a in self.attributes], "flags": self.flags,
                "emission_estimate": tuple(self.emission_estimate), "pass_index": float(self.pass_index),
                "constant_emission": self.constant_emission, "sun_guide": self.sun_guide}


class Value:
    """A float or 3-float value: a constant, or a stack slot once an instruction writes it."""

    __slots__ = ("width", "const", "ref", "id")

    def __init__(self, width: int, const=None, ref=None, id_=-1):  # width: 1, 3 or a block's length
        self.width = width
        self.const = const
        self.ref = ref
        self.id = id_


@dataclass
class _Instr:
    op: str
    words: list  # operands as encoded ints (jumps patched at the end)
    jump_to: object = None  # a _Label for JUMP_IF_ZERO


class _Label:
    pass


class _Stack:
    """First-fit allocation of stack slots, freed when a value's last reader has been emitted.
    Without a limit (the counting pass) every value gets fresh slots."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.used = bytearray(limit or 0)
        self.top = 0

    def alloc(self, width: int, what: str) -> int:
        if self.limit is None:
            self.top += width
            return self.top - width
        run = 0
        for i in range(self.limit):
            run = run + 1 if not self.used[i] else 0
            if run == width:
                start = i - width + 1
                self.used[start:i + 1] = b"\x01" * width
                return start
        raise ValueError(f"{what}: the shader is too complex (it needs more than {self.limit} stack floats)")

    def free(self, ref: int, width: int):
        if self.limit is not None:
            self.used[ref:ref + width] = b"\x00" * width


class _BumpState:
    __slots__ = ("mode", "filter_width")

    def __init__(self, mode: int, filter_width: Value | None):
        self.mode = mode
        self.filter_width = filter_width

    def key(self):
        fw = self.filter_width
        return (self.mode, None if fw is None else (fw.const if fw.const is not None else id(fw)))


_CENTER = _BumpState(BUMP_CENTER, None)


class _Compiler:
    def __init__(self, graph: dict, what: str, uses: dict | None):
        self.graph = graph
        self.nodes = graph["nodes"]
        self.what = what
        self.links_to = {(dst, ds): (src, ss) for src, ss, dst, ds in graph["links"]}
        # Outputs read by a node that reaches the output (Cycles drops the others first, which
        # matters where a node's behaviour depends on whether an output is used).
        reachable = _upstream(graph, graph["output"])
        self.consumed = {(src, ss) for src, ss, dst, _ in graph["links"] if dst in reachable}
        self.instrs: list = []
        self.constants: list[float] = []
        self.const_index: dict = {}
        self.textures: list = []
        self.attributes: list = []
        self.flags = 0
        self.estimate = [0.0, 0.0, 0.0]
        # Sun discs of Sky Textures (nodes/world.py): one is sampled apart; with more, Cycles
        # guides none and relies on its map.
        self.sun_guides: list[tuple] = []
        self.memo: dict = {}
        self.scopes: list[list] = [[]]
        # Two passes: the first counts the readers of every value (by creation order), the
        # second frees a value's slot after its last reader.
        self.counting = uses is None
        self.uses = {} if uses is None else uses
        self.remaining = dict(self.uses)
        self.next_id = 0
        self.stack = _Stack(None if self.counting else isa.STACK_SIZE)

    # -- values

    def new_value(self, width: int) -> Value:
        value = Value(width, id_=self.next_id)
        self.next_id += 1
        return value

    def constant(self, values) -> Value:
        values = tuple(float(x) for x in (values if isinstance(values, (tuple, list)) else (values,)))
        index = self.const_index.get(values)
        if index is None:
            index = len(self.constants)
            self.constants.extend(values)
            self.const_index[values] = index
        return Value(len(values), const=values, ref=-index - 1)

    def read(self, value: Value) -> int:
        """Encodes an input operand, counting the read."""
        if value.ref is None:
            raise RuntimeError(f"{self.what}: value read before an instruction wrote it")
        if value.const is None:
            if self.counting:
                self.uses[value.id] = self.uses.get(value.id, 0) + 1
        return value.ref

    def release_after_reads(self, values):
        if self.counting:
            return
        for value in values:
            if value.const is not None or value.ref is None or value.ref < 0:
                continue
            self.remaining[value.id] = self.remaining.get(value.id, 0) - 1
            if self.remaining[value.id] == 0:
                self.stack.free(value.ref, value.width)

    # -- instructions

    def emit(self, op_name: str, operands: tuple, owner: "NodeCompiler | None" = None) -> _Instr | None:
        op = isa.opcodes()[op_name]
        if len(operands) != len(op.operands):
            raise TypeError(f"{op_name} takes {len(op.operands)} operands, got {len(operands)}")
        inputs = [x for kind, x in zip(op.operands, operands) if kind in "fvFV" and x is not None]
        outputs = [x for kind, x in zip(op.operands, operands) if kind in "ow" and x is not None]
        if op.pure and all(x.const is not None for x in inputs):
            self.fold(op, operands, outputs)
            return None
        for value in outputs:
            value.ref = self.stack.alloc(value.width, self.what)
        words, jump_to = [], None
        for kind, x in zip(op.operands, operands):
            words.extend(self.encode(kind, x))
            if kind == "j":
                jump_to = x
        instr = _Instr(op_name, words, jump_to)
        self.instrs.append(instr)
        self.scopes[-1].append(("instr", instr))
        self.release_after_reads(inputs)
        for value in outputs:  # written but never read
            if not self.counting and self.remaining.get(value.id, 0) == 0:
                self.stack.free(value.ref, value.width)
        return instr

    def encode(self, kind: str, x) -> list:
        if kind in "fv":
            return [self.read(x)]
        if kind in "FV":
            return [isa.NONE if x is None else self.read(x)]
        if kind in "ow":
            return [isa.NONE if x is None else x.ref]
        if kind.startswith("e:"):
            table = isa.enums()[kind[2:]]
            return [table.index(x) if isinstance(x, str) else int(x)]
        if kind == "b":
            return [1 if x else 0]
        if kind == "t":
            if x is None:
                return [-1]
            if x not in self.textures:
                self.textures.append(x)
            return [self.textures.index(x)]
        if kind == "a":
            if x not in self.attributes:
                self.attributes.append(x)
            return [self.attributes.index(x)]
        if kind == "j":
            return [0]  # patched in flatten()
        if kind[0] == "c":  # a constant block: (Value of its floats)
            return [-x.ref - 1, x.width]
        raise ValueError(f"unknown operand kind {kind}")

    def fold(self, op: isa.Opcode, operands: tuple, outputs: list):
        """Runs one pure instruction with constant inputs; its outputs become constants."""
        slot = 0
        for value in outputs:
            value.ref = slot
            slot += value.width
        words = [op.code]
        for kind, x in zip(op.operands, operands):
            if kind in "fvFV":
                words.append(isa.NONE if x is None else x.ref)
            elif kind in "ow":
                words.append(isa.NONE if x is None else x.ref)
            else:
                words.extend(self.encode(kind, x))
        stack = isa.fold(words, np.asarray(self.constants, np.float32))
        for value in outputs:
            values = tuple(float(s) for s in stack[value.ref:value.ref + value.width])
            folded = self.constant(values)
            value.const, value.ref = folded.const, folded.ref

    # -- graph traversal

    def node_outputs(self, key: str, state: _BumpState) -> dict:
        """The output values of node `key` compiled in bump state `state` (compiled once)."""
        memo_key = (key, state.key())
        if memo_key not in self.memo:
            node = self.nodes[key]
            nc = NodeCompiler(self, key, node, state, weight=None)
            DEFINITIONS[node["type"]].compile(nc)
            self.memo[memo_key] = nc.outputs
            self.scopes[-1].append(("memo", memo_key))
        return self.memo[memo_key]

    def source_value(self, key: str, socket: str, state: _BumpState) -> Value:
        outputs = self.node_outputs(key, state)
        if socket not in outputs:
            # The socket exists on the node type but not with these settings (Blender hides it:
            # a Mix node's Result_Color when its data_type is FLOAT): a bad graph, not a bug.
            raise ValueError(f"{self.what}: node {key!r} has no output {socket!r} with its settings")
        return outputs[socket]

    def convert(self, value: Value, from_type: str, to_type: str) -> Value:
        """Blender's implicit conversions: colour → float is the luminance, vector → float the
        average, float → vector/colour a splat; colour ↔ vector keep the three floats."""
        to_width = SOCKET_WIDTH[to_type]
        if value.width == to_width:
            return value
        out = self.new_value(to_width)
        if to_width == 3:
            self.emit("CONVERT_FLOAT_TO_VECTOR", (value, out))
        elif from_type == "RGBA":
            self.emit("CONVERT_COLOR_TO_FLOAT", (value, out))
        else:
            self.emit("CONVERT_VECTOR_TO_FLOAT", (value, out))
        return out

    def compile_shader(self, key: str, weight: Value | None):
        node = self.nodes[key]
        DEFINITIONS[node["type"]].compile(NodeCompiler(self, key, node, _CENTER, weight))

    def branch(self, weight: Value, body):
        """Runs `body()` (which compiles closures weighted by `weight`) so that the program
        skips it when the weight is zero; values computed inside are not reused after it."""
        if weight.const is not None:
            if weight.const[0] > 0.0:
                body()
            return
        label = _Label()
        self.emit("JUMP_IF_ZERO", (weight, label))
        self.scopes.append([])
        body()
        for kind, item in self.scopes.pop():
            if kind == "memo":
                del self.memo[item]
        self.instrs.append(label)

    # -- result

    def flatten(self) -> np.ndarray:
        code, position = [], {}
        for item in self.instrs:
            if isinstance(item, _Label):
                position[id(item)] = len(code)
            else:
                code.append(isa.opcodes()[item.op].code)
                code.extend(item.words)
        out = np.asarray(code, np.int32)
        pc = 0
        for item in self.instrs:
            if isinstance(item, _Label):
                continue
            size = 1 + len(item.words)
            if item.jump_to is not None:
                jump_word = pc + 1 + _jump_operand_offset(item.op)
                out[jump_word] = position[id(item.jump_to)] - (pc + size)
            pc += size
        return out

    def constant_emission(self):
        """If the program only adds constant emission, that colour; else None."""
        total = [0.0, 0.0, 0.0]
        for item in self.instrs:
            if isinstance(item, _Label) or item.op not in ("EMISSION", "BACKGROUND"):
                return None
            weight, color, strength = item.words
            if color >= 0 or strength >= 0 or (weight != isa.NONE and weight >= 0):
                return None
            w = 1.0 if weight == isa.NONE else self.constants[-weight - 1]
            c = self.constants[-color - 1:-color + 2]
            s = self.constants[-strength - 1]
            total = [t + ci * s * w for t, ci in zip(total, c)]
        return tuple(total)


def _upstream(graph: dict, key: str) -> set:
    """`key` and every node it depends on through links."""
    sources: dict = {}
    for src, _, dst, _ in graph["links"]:
        sources.setdefault(dst, []).append(src)
    seen, todo = {key}, [key]
    while todo:
        for src in sources.get(todo.pop(), ()):
            if src not in seen:
                seen.add(src)
                todo.append(src)
    return seen


def _jump_operand_offset(op_name: str) -> int:
    operands = isa.opcodes()[op_name].operands
    offset = 0
    for kind in operands:
        if kind == "j":
            return offset
        offset += 2 if kind[0] == "c" else 1
    raise ValueError(f"{op_name} has no jump operand")


@dataclass
class NodeCompiler:
    """What a node's compile function works with."""

    compiler: _Compiler
    key: str
    node: dict
    state: _BumpState
    weight: Value | None  # closure nodes: the mix weight handed down (None: 1)
    outputs: dict = field(default_factory=dict)

    @property
    def what(self) -> str:
        return f"{self.compiler.what}.nodes[{self.key!r}]"

    @property
    def bump(self) -> int:
        return self.state.mode

    @property
    def filter_width(self) -> Value:
        return self.state.filter_width if self.state.filter_width is not None else self.constant(0.0)

    def param(self, name: str):
        return self.node["params"][name]

    def linked(self, name: str) -> bool:
        return (self.key, name) in self.compiler.links_to

    def constant(self, values) -> Value:
        return self.compiler.constant(values)

    def input(self, name: str) -> Value:
        """The value of data input `name`: its link (converted to the socket's type) or its
        unlinked value."""
        socket_type = DEFINITIONS[self.node["type"]].inputs[name].type
        link = self.compiler.links_to.get((self.key, name))
        if link is None:
            return self.constant(self.node["inputs"][name])
        src, src_socket = link
        value = self.compiler.source_value(src, src_socket, self.state)
        src_type = DEFINITIONS[self.compiler.nodes[src]["type"]].outputs[src_socket]
        return self.compiler.convert(value, src_type, socket_type)

    def input_or_none(self, name: str) -> Value | None:
        return self.input(name) if self.linked(name) else None

    def input_at(self, name: str, mode: int, filter_width: Value) -> Value:
        """Input `name` evaluated in another bump state (the Bump node's Height samples)."""
        state = _BumpState(mode, filter_width) if self.state.mode == BUMP_CENTER else self.state
        saved, self.state = self.state, state
        try:
            return self.input(name)
        finally:
            self.state = saved

    def has_output(self, name: str) -> bool:
        return name in DEFINITIONS[self.node["type"]].outputs

    def wants(self, name: str) -> bool:
        """Whether anything reads output `name`."""
        return (self.key, name) in self.compiler.consumed

    def output(self, name: str) -> Value | None:
        """A value for output `name`, or None when nothing reads it."""
        if not self.wants(name):
            return None
        width = SOCKET_WIDTH[DEFINITIONS[self.node["type"]].outputs[name]]
        value = self.compiler.new_value(width)
        self.outputs[name] = value
        return value

    def set_output(self, name: str, value: Value):
        """Output `name` is `value` (a node that passes a value on, or a constant)."""
        self.outputs[name] = value

    def temp(self, width: int) -> Value:
        return self.compiler.new_value(width)

    def emit(self, op_name: str, *operands):
        return self.compiler.emit(op_name, operands)

    def implicit(self, kind: str) -> Value:
        """Implicit coordinates of an unlinked input, as Cycles connects them: "uv" (the
        render-active UV map), "generated", "tangent" (radial around Z)."""
        memo_key = (self.key, "implicit:" + kind, self.state.key())
        compiler = self.compiler
        if memo_key not in compiler.memo:
            value = compiler.new_value(3)
            if kind == "uv":
                self.emit("ATTRIBUTE", ("uv", ""), self.bump, self.filter_width, value, None, None)
            elif kind == "generated":
                self.emit("TEX_COORD", "Generated", self.bump, self.filter_width, value)
            elif kind == "tangent":
                self.emit("TANGENT", "RADIAL", "Z", ("attribute", ""), value)
            else:
                raise ValueError(f"unknown implicit input {kind}")
            compiler.memo[memo_key] = {"value": value}
            compiler.scopes[-1].append(("memo", memo_key))
        return compiler.memo[memo_key]["value"]

    def shader(self, name: str, weight: Value | None):
        """Compiles the shader node linked into shader input `name` with `weight`."""
        link = self.compiler.links_to.get((self.key, name))
        if link is not None:
            self.compiler.compile_shader(link[0], weight)

    def branch(self, weight: Value, body):
        self.compiler.branch(weight, body)

    def add_flags(self, flags: int):
        self.compiler.flags |= flags

    def add_emission_estimate(self, color: Value, strength: Value):
        """Bounds the emission for light selection: constants as they are, anything linked as 1."""
        c = color.const if color.const is not None else (1.0, 1.0, 1.0)
        s = strength.const[0] if strength.const is not None else 1.0
        w = 1.0 if self.weight is None or self.weight.const is None else self.weight.const[0]
        for i in range(3):
            self.compiler.estimate[i] += abs(c[i] * s * w)


def compile_graph(graph: dict, what: str) -> Program:
    """Compiles a normalised graph (shading.graph.validate_graph) into a Program; `what`
    names it in errors (e.g. "materials['Wood']")."""
    # Compilation recurses along links (a few frames per node): long chains need more room.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 8 * len(graph["nodes"]) + 1000))
    try:
        counting = _run(graph, what, None)
        compiler = _run(graph, what, counting.uses)
    finally:
        sys.setrecursionlimit(limit)
    code = compiler.flatten()
    return Program(code=code, constants=np.asarray(compiler.constants, np.float32), textures=compiler.textures,
                   attributes=compiler.attributes, flags=compiler.flags, emission_estimate=tuple(compiler.estimate),
                   pass_index=float(graph.get("pass_index", 0)), constant_emission=compiler.constant_emission(),
                   sun_guide=compiler.sun_guides[0] if len(compiler.sun_guides) == 1 else None)


def _run(graph: dict, what: str, uses) -> _Compiler:
    compiler = _Compiler(graph, what, uses)
    output = graph["output"]
    if (output, "Surface") in compiler.links_to:
        src, _ = compiler.links_to[(output, "Surface")]
        compiler.compile_shader(src, None)
    return compiler
