"""Writes a binary file (the device programs' OptiX-IR) as a C++ byte array, for CMake."""

import sys
from pathlib import Path


def main(source: str, target: str, symbol: str) -> None:
    data = Path(source).read_bytes()
    rows = (",".join(str(b) for b in data[i:i + 32]) for i in range(0, len(data), 32))
    text = (
        f"// Generated from {Path(source).name} by embed_ir.py: do not edit.\n"
        "#include <cstddef>\n"
        f'extern "C" const unsigned char {symbol}[] = {{\n' + ",\n".join(rows) + "\n};\n"
        f'extern "C" const size_t {symbol}_size = {len(data)};\n'
    )
    out = Path(target)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(out)  # never a half-written source for the compiler


if __name__ == "__main__":
    main(*sys.argv[1:4])
