"""Write a llama-architecture GGUF cut down to its first N transformer blocks.

usage: python truncate_gguf.py INPUT OUTPUT N

Tensors `blk.0` .. `blk.{N-1}` and all non-block tensors (embedding, output norm,
output) are copied byte for byte, `{arch}.block_count` becomes N, and every other
metadata field (tokenizer, chat template, hyperparameters) is copied unchanged: a
genuinely smaller and cheaper model that speaks the same tokens. The validator tests
use it as a lazy provider's stand-in for the declared model.

Needs the `gguf` package from PyPI (ggml-org's); the tests pin its version.
"""

import re
import sys

import gguf

BLOCK = re.compile(r"^blk\.(\d+)\.")


def field(reader: gguf.GGUFReader, key: str):
    f = reader.get_field(key)
    if f is None:
        sys.exit(f"{key} is missing: not a GGUF model this script knows")
    return f.contents()


def truncate(src: str, dst: str, layers: int) -> None:
    reader = gguf.GGUFReader(src, "r")
    arch = field(reader, gguf.Keys.General.ARCHITECTURE)
    if arch != "llama":
        sys.exit(f"architecture {arch!r}: only llama is supported")
    count_key = gguf.Keys.LLM.BLOCK_COUNT.format(arch=arch)
    blocks = int(field(reader, count_key))
    if not 1 <= layers <= blocks:
        sys.exit(f"cannot keep {layers} of {blocks} blocks")

    writer = gguf.GGUFWriter(dst, arch=arch, endianess=reader.endianess)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = alignment.contents()

    for f in reader.fields.values():
        # The architecture and the GGUF.* header fields are written by GGUFWriter.
        if f.name == gguf.Keys.General.ARCHITECTURE or f.name.startswith("GGUF."):
            continue
        kind = f.types[0]
        sub = f.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        value = layers if f.name == count_key else f.contents()
        if kind == gguf.GGUFValueType.ARRAY and f.name.startswith(f"{arch}.") and len(value) == blocks:
            sys.exit(f"{f.name} holds per-block values: not supported")
        writer.add_key_value(f.name, value, kind, sub_type=sub)

    def kept(name: str) -> bool:
        m = BLOCK.match(name)
        return m is None or int(m.group(1)) < layers

    tensors = [t for t in reader.tensors if kept(t.name)]
    for t in tensors:
        writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for t in tensors:
        writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
    writer.close()
    print(f"kept {layers} of {blocks} blocks, {len(tensors)} of {len(reader.tensors)} tensors")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    truncate(sys.argv[1], sys.argv[2], int(sys.argv[3]))
