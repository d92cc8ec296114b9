"""The datasets: IDX reading on files written here (gzipped and plain), the checks that catch
truncated, corrupted and missing files, the download path with a fetcher that serves local
bytes (never the network) and its MD5 check, the real Fashion-MNIST when Debian's
``dataset-fashion-mnist`` is installed, CIFAR-10's binary format, Digits and Spiral."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import subprocess
import sys
import tarfile
import types
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import gradschool as gs
from gradschool.data.dataloader import DataLoader, default_collate
from gradschool.data.datasets import CIFAR10, MNIST, Digits, FashionMNIST, Spiral, _files
from gradschool.data.datasets.mnist import read_idx, read_image_file
from gradschool.data.spiral import make_spiral

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No test sees the user's data folders: $GRADSCHOOL_DATA unset, ~ is a fresh folder."""
    monkeypatch.delenv("GRADSCHOOL_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _idx(array: np.ndarray) -> bytes:
    magic = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    return magic + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def _mnist_arrays(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(
        np.int64
    )


def _write_mnist(folder: Path, prefix="train", n=12, gz=True, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = _mnist_arrays(n, seed)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        data = _idx(arr)
        name = f"{prefix}-{kind}-ubyte"
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


# ---------------------------------------------------------------- IDX reading
@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["MNIST/raw", "."])
def test_mnist_reads_idx_files(tmp_path, gz, layout):
    images, labels = _write_mnist(tmp_path / layout, "t10k", n=12, gz=gz)
    ds = MNIST(root=tmp_path, train=False)
    assert len(ds) == 12 and ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    assert ds.data.flags.writeable and ds.data.flags.c_contiguous
    img, label = ds[3]
    assert isinstance(img, gs.Tensor) and img.dtype == gs.uint8 and img.shape == (28, 28)
    assert isinstance(label, int) and label == labels[3]
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert "Number of datapoints: 12" in repr(ds) and "Split: Test" in repr(ds)


def test_mnist_fast_path_and_transforms(tmp_path):
    _write_mnist(tmp_path, n=10)

    class Scale:
        def __call__(self, x):
            return gs.tensor(x[None].astype(np.float32) / 255)

        def apply_batch(self, x):
            return gs.tensor(x[:, None].astype(np.float32) / 255)

    for transform in (None, Scale(), lambda x: gs.tensor(x.sum(dtype=np.int64))):
        ds = MNIST(tmp_path, transform=transform, target_transform=lambda y: 9 - y)
        fast = list(DataLoader(ds, batch_size=4))
        slow = list(DataLoader(ds, batch_size=4, collate_fn=lambda b: default_collate(b)))
        for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
            assert xf.dtype == xs.dtype and xf.shape == xs.shape
            np.testing.assert_array_equal(xf.numpy(), xs.numpy())
            np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    assert fast[0][0].shape == (4,) and slow[-1][1].shape == (2,)


def _raises(path_or_ds, match):
    with pytest.raises(ValueError, match=match) as info:
        path_or_ds()
    return str(info.value)


def test_truncated_and_corrupted_files_name_the_file_and_the_check(tmp_path):
    images, labels = _mnist_arrays(10)
    good = _idx(images)
    p = tmp_path / "t10k-images-idx3-ubyte.gz"

    p.write_bytes(gzip.compress(good[:512]))  # a whole gzip stream of a truncated file
    msg = _raises(lambda: read_image_file(p), "truncated")
    assert f"{p}: expected 7856 bytes" in msg  # the whole path: which copy is bad
    assert "10 28x28 images" in msg and "got 512 after decompression" in msg
    assert "delete it and download again" in msg

    p.write_bytes(gzip.compress(good)[:-300])  # the compressed stream itself cut short
    _raises(lambda: read_idx(p, 0x803), "t10k-images-idx3-ubyte.gz: the gzip data is corrupted")

    raw = tmp_path / "train-images-idx3-ubyte"
    raw.write_bytes(good[:100])
    _raises(lambda: read_idx(raw, 0x803), r"expected 7856 bytes .* got 100; the file is truncated")
    raw.write_bytes(good + b"\0")
    _raises(lambda: read_idx(raw, 0x803), "more than the 7856 bytes")
    raw.write_bytes(good[:3])
    _raises(lambda: read_idx(raw, 0x803), "too short for an IDX header")
    raw.write_bytes(_idx(labels))
    _raises(lambda: read_idx(raw, 0x803), r"bad magic number 0x00000801 .* expected 0x00000803")
    raw.write_bytes(b"PK\x03\x04" + good[4:])
    _raises(lambda: read_idx(raw, 0x803), "not an IDX file")
    raw.write_bytes(good[:14])
    _raises(lambda: read_idx(raw, 0x803), "header ends early")


def test_dataset_level_checks(tmp_path):
    _write_mnist(tmp_path, n=10, gz=False)
    small = np.zeros((10, 27, 27), np.uint8)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(small))
    _raises(lambda: MNIST(tmp_path), "train-images-idx3-ubyte: expected 28x28 images, got 27x27")
    _write_mnist(tmp_path, n=10, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.array([1, 2, 12] + [0] * 7)))
    _raises(lambda: MNIST(tmp_path), r"label 12 at index 2 is outside 0..9")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.zeros(9)))
    _raises(lambda: MNIST(tmp_path), "holds 10 images but .* holds 9 labels")


def test_missing_files_say_where_we_looked_and_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(tmp_path / "nowhere"),))
    monkeypatch.setenv("GRADSCHOOL_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(root=tmp_path / "mine", train=False)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte[.gz]" in msg and "apt-get install dataset-fashion-mnist" in msg
    assert "download=True" in msg and "root=" in msg and "--data-dir" in msg
    for folder in [
        "mine/FashionMNIST/raw",
        "mine",
        "env/FashionMNIST/raw",
        "home/.cache/gradschool",
    ]:
        assert str(tmp_path / folder) in msg
    assert msg.index(str(tmp_path / "mine")) < msg.index(str(tmp_path / "env"))
    assert str(tmp_path / "nowhere") in msg
    # the pair must be complete in one folder: a lone images file is not enough
    _write_mnist(tmp_path / "mine", "t10k")
    (tmp_path / "mine" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError):
        MNIST(root=tmp_path / "mine", train=False)


def test_lookup_order_env_and_cache(tmp_path, monkeypatch):
    a, _ = _write_mnist(tmp_path / "env" / "MNIST", seed=1)
    b, _ = _write_mnist(tmp_path / "home" / ".cache" / "gradschool" / "MNIST" / "raw", seed=2)
    assert np.array_equal(MNIST().data, b)  # only the cache
    monkeypatch.setenv("GRADSCHOOL_DATA", str(tmp_path / "env"))
    assert np.array_equal(MNIST().data, a)  # $GRADSCHOOL_DATA before the cache
    c, _ = _write_mnist(tmp_path / "root", seed=3)
    assert np.array_equal(MNIST(root=tmp_path / "root").data, c)  # root first


# ---------------------------------------------------------------- downloads (no network)
def _serve(monkeypatch, files: dict[str, bytes], fail=()):
    """Replace the fetcher: URLs ending in a known name get its bytes; others are offline."""
    calls = []

    def fetch(url, dest, timeout=60.0):
        calls.append(url)
        name = url.rsplit("/", 1)[1]
        if any(url.startswith(f) for f in fail) or name not in files:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        Path(dest).write_bytes(files[name])

    monkeypatch.setattr(_files, "fetch", fetch)
    return calls


def _gz_pair(prefix="train", n=6):
    images, labels = _mnist_arrays(n)
    return (
        images,
        labels,
        {
            f"{prefix}-images-idx3-ubyte.gz": gzip.compress(_idx(images)),
            f"{prefix}-labels-idx1-ubyte.gz": gzip.compress(_idx(labels)),
        },
    )


def _md5s(files):
    return {k: hashlib.md5(v).hexdigest() for k, v in files.items()}


def test_download_with_md5_check(tmp_path, monkeypatch):
    images, labels, files = _gz_pair()
    monkeypatch.setattr(MNIST, "resources", _md5s(files))
    calls = _serve(monkeypatch, files, fail=[MNIST.mirrors[0]])  # the first mirror is down
    ds = MNIST(root=tmp_path, download=True)
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    assert ds.raw_folder == str(tmp_path / "MNIST" / "raw")
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(files)
    assert len(calls) == 4 and calls[1].startswith(MNIST.mirrors[1])
    calls.clear()
    MNIST(root=tmp_path, download=True)  # already there: nothing fetched
    assert calls == []


def test_download_goes_to_the_cache_without_root(tmp_path, monkeypatch):
    _, _, files = _gz_pair("t10k")
    monkeypatch.setattr(FashionMNIST, "resources", _md5s(files))
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    _serve(monkeypatch, files)
    ds = FashionMNIST(train=False, download=True)
    assert ds.raw_folder == str(
        tmp_path / "home" / ".cache" / "gradschool" / "FashionMNIST" / "raw"
    )


def test_download_md5_mismatch_and_offline(tmp_path, monkeypatch):
    _, _, files = _gz_pair()
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    _serve(monkeypatch, files)  # served bytes differ from the published files
    with pytest.raises(RuntimeError) as info:
        FashionMNIST(root=tmp_path, download=True)
    msg = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in msg and "MD5 mismatch" in msg
    assert f"expected {FashionMNIST.resources['train-images-idx3-ubyte.gz']}" in msg
    assert list((tmp_path / "FashionMNIST" / "raw").iterdir()) == []  # nothing half-written
    _serve(monkeypatch, {})  # offline
    with pytest.raises(RuntimeError, match="(?s)Temporary failure.*offline.*apt-get"):
        FashionMNIST(root=tmp_path, download=True)


# ---------------------------------------------------------------- the real Fashion-MNIST
@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_real_fashion_mnist():
    for train, n in ((True, 60000), (False, 10000)):
        ds = FashionMNIST(train=train)
        assert ds.raw_folder == str(FASHION)
        assert ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
        np.testing.assert_array_equal(np.bincount(ds.targets, minlength=10), [n // 10] * 10)
        assert ds.data.max() == 255 and ds.classes[9] == "Ankle boot"
    x, y = ds[0]
    assert x.shape == (28, 28) and y == 9  # the first test image is an ankle boot


# ---------------------------------------------------------------- CIFAR-10 (binary)
def _cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    chw = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return labels, chw, np.concatenate([labels[:, None], chw.reshape(n, -1)], 1).tobytes()


def _write_cifar(folder: Path, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, name in enumerate(CIFAR10.train_list + CIFAR10.test_list):
        labels, chw, data = _cifar_records(n + (name == "test_batch.bin"), i)
        (folder / name).write_bytes(data)
        out[name] = (labels, chw, data)
    return out


def test_cifar10_binary(tmp_path):
    written = _write_cifar(tmp_path / "cifar-10-batches-bin")
    train = CIFAR10(tmp_path)
    assert train.data.shape == (15, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.data.flags.c_contiguous
    labels, chw, _ = written["data_batch_2.bin"]
    np.testing.assert_array_equal(train.data[3:6], chw.transpose(0, 2, 3, 1))  # HWC
    np.testing.assert_array_equal(train.targets[3:6], labels)
    test = CIFAR10(tmp_path, train=False)
    assert (
        len(test) == 4
        and test[1][0].shape == (32, 32, 3)
        and test[1][1] == written["test_batch.bin"][0][1]
    )
    assert test.classes[0] == "airplane" and len(test.classes) == 10
    batch = next(iter(DataLoader(train, batch_size=5)))
    assert batch[0].shape == (5, 32, 32, 3) and batch[1].dtype == gs.int64


def test_cifar10_errors(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    written = _write_cifar(folder)
    (folder / "test_batch.bin").write_bytes(written["test_batch.bin"][2][:-10])
    _raises(
        lambda: CIFAR10(tmp_path, train=False),
        "test_batch.bin: 12282 bytes is not a whole number of 3073-byte",
    )
    bad = bytearray(written["test_batch.bin"][2])
    bad[3073] = 17
    (folder / "test_batch.bin").write_bytes(bytes(bad))
    _raises(lambda: CIFAR10(tmp_path, train=False), "label 17 in record 1 is outside 0..9")
    (folder / "data_batch_5.bin").unlink()
    with pytest.raises(
        FileNotFoundError, match="(?s)data_batch_5.bin.*cifar-10-batches-bin.*download=True"
    ):
        CIFAR10(tmp_path)


def test_cifar10_download_extracts_only_the_batches(tmp_path, monkeypatch):
    src = _write_cifar(tmp_path / "src")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, (_, _, data) in src.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        evil = tarfile.TarInfo("../evil.bin")  # a crafted member must not escape
        evil.size = 3
        tar.addfile(evil, io.BytesIO(b"bad"))
    archive = buf.getvalue()
    monkeypatch.setattr(CIFAR10, "tgz_md5", hashlib.md5(archive).hexdigest())
    calls = _serve(monkeypatch, {"cifar-10-binary.tar.gz": archive})
    root = tmp_path / "root"
    ds = CIFAR10(root, train=False, download=True)
    assert len(ds) == 4 and calls == [CIFAR10.mirrors[0] + "cifar-10-binary.tar.gz"]
    assert not (tmp_path / "evil.bin").exists()
    assert sorted(p.name for p in (root / "cifar-10-batches-bin").iterdir()) == sorted(src)
    CIFAR10(root, download=True)  # found: no second fetch
    assert len(calls) == 1


# ---------------------------------------------------------------- Digits, Spiral
def test_digits_with_a_stand_in_sklearn(monkeypatch):
    images = np.arange(5 * 64, dtype=np.float64).reshape(5, 8, 8) % 17
    fake = types.ModuleType("sklearn.datasets")
    fake.load_digits = lambda: types.SimpleNamespace(images=images, target=np.arange(5))
    monkeypatch.setitem(sys.modules, "sklearn", types.ModuleType("sklearn"))
    monkeypatch.setitem(sys.modules, "sklearn.datasets", fake)
    ds = Digits()
    assert len(ds) == 5 and ds.data.dtype == np.float32 and ds.data.max() == 1.0
    x, y = ds[2]
    assert x.shape == (1, 8, 8) and x.dtype == gs.float32 and y == 2
    np.testing.assert_allclose(x.numpy()[0], images[2] / 16)
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 1, 8, 8)
    np.testing.assert_array_equal(xb.numpy()[2], x.numpy())


def test_digits_without_sklearn_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        Digits()


def test_digits_real():
    pytest.importorskip("sklearn")
    ds = Digits()
    assert len(ds) == 1797 and ds[0][0].shape == (1, 8, 8)


def test_spiral():
    ds = Spiral(n_per_class=20, n_classes=4, noise=0.1, seed=3)
    X, y = make_spiral(20, 4, 0.1, 3)
    assert len(ds) == 80 and ds.classes == ["0", "1", "2", "3"]
    np.testing.assert_array_equal(ds.data, X)
    x, label = ds[25]
    assert x.shape == (2,) and x.dtype == gs.float32 and label == y[25] == 1
    xb, yb = next(iter(DataLoader(ds, batch_size=80)))
    np.testing.assert_array_equal(xb.numpy(), X)
    np.testing.assert_array_equal(yb.numpy(), y)


def test_imports_stay_lean():
    code = (
        "import sys, gradschool.data.datasets, gradschool.data.dataloader; "
        "print(sorted(m for m in ('urllib.request', 'tarfile', 'sklearn', 'torch', 'tqdm') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_real_transforms_batch_path_equals_per_image(tmp_path):
    T = pytest.importorskip("gradschool.data.transforms")
    _write_mnist(tmp_path, n=10)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))])
    assert callable(getattr(tf, "apply_batch", None))
    ds = MNIST(tmp_path, transform=tf)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=lambda b: default_collate(b)))
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.shape == xs.shape and xf.dtype == xs.dtype == gs.float32
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    assert fast[0][0].shape == (4, 1, 28, 28) and "    Transform: Compose(" in repr(ds)
