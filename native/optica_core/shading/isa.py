"""The shader programs' instruction set as the native core defines it (kernel/svm/opcodes.h):
opcode numbers, operand layouts and enum tables, read once from optica_core._native, and
constant folding by running pure instructions in the native interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

NONE = -2147483648  # kSvmNone: an optional input not given, an output nothing reads
STACK_SIZE = 256


@dataclass(frozen=True)
class Opcode:
    code: int
    name: str
    pure: bool
    operands: tuple  # layout tokens: "f", "v", "F", "V", "o", "w", "e:<table>", "b", "t", "a", "j", "c"


@lru_cache(maxsize=1)
def opcodes() -> dict[str, Opcode]:
    from .. import _native

    return {name: Opcode(code, name, pure, tuple(layout.split()))
            for code, (name, pure, layout) in enumerate(_native.svm_opcodes())}


@lru_cache(maxsize=1)
def enums() -> dict[str, tuple]:
    from .. import _native

    return {name: tuple(values) for name, values in _native.svm_enums().items()}


def fold(code: list, constants: np.ndarray) -> np.ndarray:
    """The stack after running `code` (pure instructions) with `constants`."""
    from .. import _native

    return _native.svm_fold(np.asarray(code, np.int32), np.asarray(constants, np.float32))
