"""The safetensors format written and read from scratch: round trips for every dtype, the
exact byte layout, atomic writes, a clear error for every malformed file, and (when the
``safetensors`` library happens to be installed) files that both implementations read."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest

import gradschool as gs
from gradschool.io import atomic_write, load, load_file, load_metadata, save_file

DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]
DTYPES += ["float16", "float32", "float64"]


def _sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.startswith("float"):
        return np.asarray(rng.standard_normal(shape), dtype=dtype)
    return np.asarray(rng.integers(0, 100, shape), dtype=dtype)


def _raw_file(path, header, data: bytes = b"", pad: bool = True) -> None:
    """Write a file by hand: header (a dict, or bytes taken as-is), then data."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(tmp_path, dtype):
    shapes = [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 2, 3, 4)]
    tensors = {f"t{i}": _sample(dtype, s, i) for i, s in enumerate(shapes)}
    path = tmp_path / "x.safetensors"
    save_file(tensors, path)
    out = load_file(path)
    assert set(out) == set(tensors)
    for k, v in tensors.items():
        assert out[k].dtype == v.dtype and out[k].shape == v.shape, k
        np.testing.assert_array_equal(out[k], v)
        assert out[k].flags.writeable and out[k].flags.aligned


def test_tensors_parameters_and_views(tmp_path):
    w = gs.nn.Parameter(gs.randn(3, 4))
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    tensors = {"w": w, "t": gs.tensor([1, 2, 3]), "view": x[:, ::2], "be": x.astype(">f8")}
    save_file(tensors, str(tmp_path / "a.safetensors"))
    out = load_file(tmp_path / "a.safetensors")
    np.testing.assert_array_equal(out["w"], w.data)
    assert out["w"].dtype == np.float32 and out["t"].dtype == np.int64
    np.testing.assert_array_equal(out["view"], x[:, ::2])
    assert out["be"].dtype == np.float64 and out["be"].dtype.isnative
    np.testing.assert_array_equal(out["be"], x)


def test_metadata_and_load(tmp_path):
    path = tmp_path / "m.safetensors"
    save_file({"a": np.ones(2, np.float32)}, path, metadata={"epoch": "3", "note": "héllo"})
    assert load_metadata(path) == {"epoch": "3", "note": "héllo"}
    tensors, meta = load(path)
    assert meta["epoch"] == "3" and list(tensors) == ["a"]
    save_file({"a": np.ones(2, np.float32)}, path)
    assert load_metadata(path) == {}
    save_file({}, path, metadata={"empty": "yes"})
    assert load(path) == ({}, {"empty": "yes"})


def test_byte_layout(tmp_path):
    """The layout other readers rely on: u64 header length, padded JSON, aligned raw data,
    widest dtype first."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([1, 2], dtype=np.int64)
    c = np.array([7], dtype=np.uint8)
    path = tmp_path / "l.safetensors"
    save_file({"c": c, "a": a, "b": b}, path, metadata={"k": "v"})
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0
    header = json.loads(blob[8 : 8 + n])
    assert header["__metadata__"] == {"k": "v"}
    assert header["b"] == {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}
    assert header["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [16, 40]}
    assert header["c"] == {"dtype": "U8", "shape": [1], "data_offsets": [40, 41]}
    assert blob[8 + n :] == b.astype("<i8").tobytes() + a.astype("<f4").tobytes() + c.tobytes()


def test_bf16_loads_as_float32(tmp_path):
    values = np.array([1.0, -2.5, 0.15625, 2.0**100], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2")  # exact: these fit in bfloat16
    path = tmp_path / "bf.safetensors"
    header = {"x": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}
    _raw_file(path, header, bf16.tobytes())
    out = load_file(path)["x"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, values)


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save_file({"a": np.zeros(3, np.float32)}, path)
    save_file({"a": np.ones(3, np.float32)}, path)  # overwrite
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    np.testing.assert_array_equal(load_file(path)["a"], 1)
    with pytest.raises(RuntimeError, match="crash"), atomic_write(path) as f:
        f.write(b"half a file")
        raise RuntimeError("crash")
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # old file kept, temp removed
    np.testing.assert_array_equal(load_file(path)["a"], 1)


def test_save_errors(tmp_path):
    path = tmp_path / "e.safetensors"
    with pytest.raises(TypeError, match="names must be str"):
        save_file({1: np.zeros(1)}, path)
    with pytest.raises(ValueError, match="reserved"):
        save_file({"__metadata__": np.zeros(1)}, path)
    with pytest.raises(TypeError, match=r"'c'.*complex128"):
        save_file({"c": np.zeros(2, complex)}, path)
    with pytest.raises(TypeError, match="str to str"):
        save_file({"a": np.zeros(1)}, path, metadata={"epoch": 3})
    with pytest.raises(TypeError, match="mapping"):
        save_file([np.zeros(1)], path)
    assert not path.exists() and os.listdir(tmp_path) == []


ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
DATA = np.array([1.0, 2.0], "<f4").tobytes()


@pytest.mark.parametrize(
    ("header", "data", "match"),
    [
        (None, b"abc", "too short"),
        (b"{}", b"", None),  # a valid empty file: checked below
        ({"a": {**ENTRY, "dtype": "F99"}}, DATA, "unsupported dtype 'F99'"),
        ({"a": {**ENTRY, "dtype": "F8_E4M3"}}, DATA, "NumPy has no such type"),
        ({"a": {**ENTRY, "data_offsets": [8, 0]}}, DATA, "begin <= end"),
        ({"a": {**ENTRY, "data_offsets": [0, 16]}}, DATA, "beyond the data section"),
        ({"a": {**ENTRY, "shape": [3]}}, DATA, "needs 12 bytes"),
        ({"a": {**ENTRY, "shape": [-2]}}, DATA, "non-negative"),
        ({"a": {**ENTRY, "data_offsets": [0]}}, DATA, r"\[begin, end\]"),
        ({"a": {"dtype": "F32", "shape": [2]}}, DATA, "expected keys"),
        ({"a": ENTRY}, DATA + b"junk", "trailing garbage"),
        ({"a": ENTRY, "b": {**ENTRY, "data_offsets": [4, 12]}}, DATA + b"1234", "overlaps"),
        ({"a": {**ENTRY, "data_offsets": [4, 12]}}, b"1234" + DATA, "gap"),
        ({"a": ENTRY, "__metadata__": {"k": 1}}, DATA, "mapping strings to strings"),
        (b"[1, 2]", b"", "expected an object"),
        (b'{"a": ', b"", "not valid JSON"),
        (b"\xff\xfe{}", b"", "not valid JSON"),
        (b'{"a": {}, "a": {}}', b"", "twice"),
    ],
)
def test_malformed_files_raise_clear_errors(tmp_path, header, data, match):
    path = tmp_path / "bad.safetensors"
    if header is None:
        path.write_bytes(data)
    else:
        _raw_file(path, header, data)
    if match is None:
        assert load(path) == ({}, {})
        return
    with pytest.raises(ValueError, match=match) as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_null_metadata_and_missing_directory(tmp_path):
    path = tmp_path / "n.safetensors"
    _raw_file(path, {"__metadata__": None, "a": ENTRY}, DATA)
    assert load_metadata(path) == {} and load_file(path)["a"].tolist() == [1.0, 2.0]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_file({"a": np.zeros(1)}, tmp_path / "no" / "such" / "dir.safetensors")


def test_header_length_beyond_the_file(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(ValueError, match="beyond the end"):
        load_file(path)
    with pytest.raises(ValueError, match="beyond the end"):
        load_metadata(path)
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(ValueError, match="larger than the limit"):
        load_file(path)


def test_a_pickle_is_refused_not_run(tmp_path):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        load_file(path)


def test_the_safetensors_library_reads_ours_and_we_read_its(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    tensors = {
        f"{d}_{i}": _sample(d, s, i)
        for i, (d, s) in enumerate((d, s) for d in DTYPES for s in [(), (0, 2), (3, 2)])
    }
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save_file(tensors, ours, metadata={"format": "np"})
    st.save_file(tensors, str(theirs), metadata={"format": "np"})
    assert ours.read_bytes() == theirs.read_bytes()
    for name, value in st.load_file(str(ours)).items():
        np.testing.assert_array_equal(value, tensors[name])
    for name, value in load_file(theirs).items():
        assert value.dtype == tensors[name].dtype
        np.testing.assert_array_equal(value, tensors[name])
