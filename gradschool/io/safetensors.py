"""The safetensors file format, written and read from scratch (what checkpoints are made of).

Why not pickle (``torch.save``'s default)? Unpickling runs whatever code the file names, so
loading a stranger's checkpoint is running a stranger's program. A safetensors file is only
data, laid out as::

    8 bytes          N, the header length, unsigned little-endian
    N bytes          a JSON header, padded with spaces to a multiple of 8:
                     {"fc.weight": {"dtype": "F32", "shape": [10, 784],
                                    "data_offsets": [0, 31360]},
                      ...,
                      "__metadata__": {"epoch": "3"}}
    the rest         every tensor's raw little-endian bytes, back to back, C order

``data_offsets`` count from the first byte after the header. Loading is a JSON parse and
``ndarray.view`` on the bytes read, so it can never execute code. Files written here load in
the ``safetensors`` library (and so in PyTorch, JAX, Hugging Face) and the other way round;
the checks on load are that library's: the tensors must tile the data section exactly, with
no gap, overlap or trailing byte.

>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> save_file({"w": np.eye(2, dtype=np.float32)}, path, metadata={"step": "7"})
>>> load_file(path)["w"]
array([[1., 0.],
       [0., 1.]], dtype=float32)
>>> load_metadata(path)
{'step': '7'}
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
from collections.abc import Iterator, Mapping
from typing import IO, Any

import numpy as np

from ..backend.device import to_device
from ..tensor import Tensor

__all__ = ["atomic_write", "load", "load_file", "load_metadata", "remove_temporaries", "save_file"]

TEMPORARY_SUFFIX = ".tmp"  # atomic_write's temporary files: .NAME.<12 hex digits>.tmp

PathLike = str | os.PathLike[str]

# The safetensors names of the NumPy dtypes (little-endian storage).
_DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_NAMES: dict[tuple[str, int], str] = {(d.kind, d.itemsize): n for n, d in _DTYPES.items()}
# The safetensors library's dtype order; it writes the largest first (then by name), which
# keeps every tensor aligned to its itemsize. Following it makes our files byte-identical.
_RANK = {n: i for i, n in enumerate("BOOL U8 I8 I16 U16 F16 I32 U32 F32 F64 I64 U64".split())}
# bfloat16 is the top half of a float32: NumPy has no such type, so it loads widened to F32.
_BF16 = "BF16"
_KNOWN_ELSEWHERE = ("F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64")
_MAX_HEADER = 100_000_000  # the safetensors library's own limit on N


# ----------------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for binary writing; on success flush, fsync and
    ``os.replace`` it onto ``path``. A crash mid-write leaves the old file (or none), never a
    half-written one; on an exception the temporary file is removed.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> with atomic_write(p) as f:
    ...     _ = f.write(b"hello")
    >>> open(p, "rb").read()
    b'hello'
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: directory {directory!r} does not exist")
    # os.open with O_EXCL and mode 0o666 respects the umask (mkstemp would force 0o600); the
    # random name comes from os.urandom, so writing never moves gradschool's seeded RNG.
    while True:
        tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}{TEMPORARY_SUFFIX}")
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
            )
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ----------------------------------------------------------------------------- saving
def remove_temporaries(directory: PathLike) -> None:
    """Delete the temporary files that writers killed mid-file left in ``directory``
    (``.NAME.<hex>.tmp``, from ``atomic_write``); only for a directory no one writes to now."""
    for entry in os.scandir(directory):
        if entry.name.startswith(".") and entry.name.endswith(TEMPORARY_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _to_numpy(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        value = to_device(value.data, "cpu")
    elif hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if (array.dtype.kind, array.dtype.itemsize) not in _NAMES:
        known = ", ".join(str(d) for d in _DTYPES.values())
        raise TypeError(
            f"save_file: tensor {name!r} has dtype {array.dtype}, which safetensors cannot "
            f"store here; supported: {known}"
        )
    # Little-endian C order is the file's layout; this is a no-op for a contiguous array.
    return np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")


def save_file(
    tensors: Mapping[str, Tensor | np.ndarray],
    path: PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``tensors`` (name -> gradschool Tensor, NumPy array or CPU torch tensor) to a
    safetensors file at ``path``, atomically. ``metadata`` is a str -> str mapping stored in
    the header under ``"__metadata__"`` (put numbers in as strings, or as JSON)."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"save_file: expected a mapping of names to tensors, got {type(tensors).__name__}"
        )
    arrays: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_file: tensor names must be str, got {name!r}")
        if name == "__metadata__":
            raise ValueError("save_file: '__metadata__' is reserved and cannot name a tensor")
        arrays[name] = _to_numpy(name, value)
    header: dict[str, Any] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise TypeError(f"save_file: metadata must be a mapping, got {type(metadata).__name__}")
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(
                    f"save_file: metadata must map str to str, got {k!r}: {type(v).__name__} "
                    "(convert values with str() or json.dumps())"
                )
        header["__metadata__"] = dict(metadata)
    # Widest dtype first, then by name: every tensor then starts at a multiple of its
    # itemsize, so loading can view it in place without a copy.
    names = {n: _NAMES[(a.dtype.kind, a.dtype.itemsize)] for n, a in arrays.items()}
    order = sorted(arrays, key=lambda n: (-_RANK[names[n]], n))
    offset = 0
    for name in order:
        a = arrays[name]
        header[name] = {
            "dtype": names[name],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the data section starts 8-byte aligned
    with atomic_write(path) as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            a = arrays[name]
            if a.size:
                f.write(a.reshape(-1).view(np.uint8))


# ----------------------------------------------------------------------------- loading
def _fail(path: PathLike, what: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!s}: not a valid safetensors file: {what}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the header names {k!r} twice")
        out[k] = v
    return out


def _read_header(f: IO[bytes], path: PathLike, file_size: int) -> tuple[dict[str, Any], int]:
    """Parse and check the header; returns it and the offset where the data section starts."""
    if file_size < 8:
        raise _fail(path, f"the file has {file_size} bytes, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER:
        raise _fail(path, f"header length {n} is larger than the limit of {_MAX_HEADER} bytes")
    if 8 + n > file_size:
        raise _fail(path, f"header length {n} goes beyond the end of the {file_size}-byte file")
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # deep nesting: Recursion
        raise _fail(path, f"the header is not valid JSON ({type(err).__name__}: {err})") from None
    if not isinstance(header, dict):
        raise _fail(path, f"the header is a JSON {type(header).__name__}, expected an object")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise _fail(path, "'__metadata__' must be an object mapping strings to strings")
    return header, 8 + n


def _check_entries(
    header: dict[str, Any], path: PathLike, data_size: int
) -> list[tuple[int, int, str, str, tuple[int, ...]]]:
    """Check every tensor entry; returns (begin, end, name, dtype, shape) sorted by begin."""
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _fail(path, f"tensor {name!r}: expected keys dtype, shape, data_offsets")
        dt, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dt, str) or (dt not in _DTYPES and dt != _BF16):
            hint = " (NumPy has no such type)" if dt in _KNOWN_ELSEWHERE else ""
            known = ", ".join([*_DTYPES, _BF16])
            raise _fail(path, f"tensor {name!r}: unsupported dtype {dt!r}{hint}; known: {known}")
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise _fail(
                path, f"tensor {name!r}: shape must be a list of non-negative ints, got {shape!r}"
            )
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            raise _fail(
                path, f"tensor {name!r}: data_offsets must be [begin, end], got {offsets!r}"
            )
        begin, end = offsets
        if not 0 <= begin <= end:
            raise _fail(path, f"tensor {name!r}: data_offsets {offsets} are not 0 <= begin <= end")
        if end > data_size:
            raise _fail(
                path,
                f"tensor {name!r}: data_offsets {offsets} go beyond the data section "
                f"({data_size} bytes; is the file truncated?)",
            )
        itemsize = 2 if dt == _BF16 else _DTYPES[dt].itemsize
        expected = math.prod(shape) * itemsize  # Python ints: a huge shape cannot wrap to 0
        if end - begin != expected:
            raise _fail(
                path,
                f"tensor {name!r}: {dt} of shape {tuple(shape)} needs {expected} bytes, "
                f"but data_offsets {offsets} hold {end - begin}",
            )
        entries.append((begin, end, name, dt, tuple(shape)))
    entries.sort()
    position = 0
    for begin, end, name, _, _ in entries:
        if begin < position:
            raise _fail(path, f"tensor {name!r} at byte {begin} overlaps the tensor before it")
        if begin > position:
            raise _fail(
                path, f"tensor {name!r} starts at byte {begin}, leaving a gap after byte {position}"
            )
        position = end
    if position != data_size:
        raise _fail(
            path,
            f"the tensors end at byte {position} of the data section but the file holds "
            f"{data_size - position} more bytes (trailing garbage or a missing tensor)",
        )
    return entries


def load(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file: ``({name: array}, metadata)``.

    The arrays are little-endian-native NumPy arrays (writeable views into one buffer read
    from the file, in the header's order); ``BF16`` tensors are widened to ``float32``.
    Raises ``ValueError`` naming the file and the failed check for a malformed file.
    """
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        header, start = _read_header(f, path, file_size)
        entries = _check_entries(header, path, file_size - start)
        # One aligned, writeable buffer for the whole data section, filled without a copy.
        buffer = np.empty(file_size - start, dtype=np.uint8)
        if f.readinto(memoryview(buffer)) != buffer.size:
            raise _fail(path, "the file ended while reading the data section")
    arrays: dict[str, np.ndarray] = {}
    for begin, end, name, dt, shape in entries:
        chunk = buffer[begin:end]
        if dt == _BF16:
            a = (chunk.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = chunk.view(_DTYPES[dt])
            if not a.flags.aligned:  # offsets from a writer that does not align: copy
                a = a.copy()
        if not a.dtype.isnative:  # only on a big-endian machine
            a = a.astype(a.dtype.newbyteorder("="))
        arrays[name] = a.reshape(shape)
    order = [k for k in header if k != "__metadata__"]
    return {k: arrays[k] for k in order}, dict(header.get("__metadata__") or {})


def load_file(path: PathLike) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as ``{name: np.ndarray}`` (see ``load``)."""
    return load(path)[0]


def load_metadata(path: PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (reads and checks only the header)."""
    with open(path, "rb") as f:
        header, _ = _read_header(f, path, os.fstat(f.fileno()).st_size)
    return dict(header.get("__metadata__") or {})
