#!/usr/bin/env python3
"""Checks that the reference safetensors implementation reads a file nabla wrote.

    check_safetensors.py FILE.safetensors EXPECTED.json

Both files come from write_safetensors_sample (the ctest safetensors_reference runs it first);
this script writes nothing. It loads FILE with safetensors.torch.load_file, or with
safetensors.deserialize where PyTorch is missing, and compares every tensor's name, dtype, shape
and values, and the metadata, exactly. It exits with 77, which ctest reports as skipped, when the
Python module safetensors is not installed (Debian 12 does not package it).
"""
import json
import struct
import sys

SKIP = 77

# struct formats of the little-endian data, per dtype code; BF16 has none (see decode).
FORMATS = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I8": "b", "U8": "B",
           "BOOL": "?"}


def decode(dtype, data):
    if dtype == "BF16":  # the high half of a float32
        return [struct.unpack("<f", b"\0\0" + data[i:i + 2])[0] for i in range(0, len(data), 2)]
    size = struct.calcsize(FORMATS[dtype])
    return [float(v) for v in struct.unpack("<%d%s" % (len(data) // size, FORMATS[dtype]), data)]


def load_with_torch(path):
    import torch
    from safetensors.torch import load_file
    codes = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
             torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.int8: "I8",
             torch.uint8: "U8", torch.bool: "BOOL"}
    return {name: (codes[t.dtype], list(t.shape), t.flatten().to(torch.float64).tolist())
            for name, t in load_file(path).items()}


def load_without_torch(path):
    from safetensors import deserialize
    with open(path, "rb") as f:
        items = deserialize(f.read())
    return {name: (info["dtype"], list(info["shape"]), decode(info["dtype"], bytes(info["data"])))
            for name, info in items}


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        from safetensors import safe_open
    except ImportError:
        print("the Python module safetensors is not installed: skipped")
        return SKIP
    path, expected_path = sys.argv[1:]
    with open(expected_path) as f:
        expected = json.load(f)

    try:
        import torch  # noqa: F401
        framework, loaded = "pt", load_with_torch(path)
    except ImportError:
        framework, loaded = "numpy", load_without_torch(path)
    with safe_open(path, framework=framework) as f:
        metadata = f.metadata() or {}

    errors = []
    if sorted(loaded) != sorted(expected["tensors"]):
        errors.append("names: read %s, expected %s" % (sorted(loaded), sorted(expected["tensors"])))
    for name, want in expected["tensors"].items():
        if name not in loaded:
            continue
        got = dict(zip(("dtype", "shape", "values"), loaded[name]))
        for key in ("dtype", "shape", "values"):
            if got[key] != want[key]:
                errors.append("%s: %s %s, expected %s" % (name, key, got[key], want[key]))
    if metadata != expected["metadata"]:
        errors.append("metadata: read %s, expected %s" % (metadata, expected["metadata"]))

    for error in errors:
        print(error, file=sys.stderr)
    print("%s: %d tensors read with %s, %d mismatches"
          % (path, len(loaded), "PyTorch" if framework == "pt" else "safetensors.deserialize",
             len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
