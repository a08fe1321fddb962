"""Dataset audio encrypted at rest: readable with the key, refused cleanly without it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest

from lbrxvoicepro.dataset.crypto import AudioCipher, DecryptionError
from lbrxvoicepro.dataset.exporters import convert
from lbrxvoicepro.dataset.store import DatasetError, DatasetStore
from lbrxvoicepro.errors import ConfigError
from lbrxvoicepro.types import Audio, Speaker, Utterance

KEY = AudioCipher(bytes(range(32)))


def fill(store: DatasetStore, count: int = 3) -> list[Utterance]:
    store.add_speaker(Speaker("s", "S", "pl"))
    t = np.arange(16000 * 2) / 16000
    audio = Audio((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    draft = Utterance("", "s", "", 0, 0, "ala ma kota", (), "pl", "src", 0.0, 2.0)
    return [store.add_utterance(audio, draft) for _ in range(count)]


def test_audio_is_encrypted_on_disk_and_read_back(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path, KEY)
    utterances = fill(store)
    raw = store.audio(utterances[0]).read_bytes()
    assert raw.startswith(b"LBRXAES1") and b"fLaC" not in raw
    audio = DatasetStore(tmp_path, KEY).read_audio(utterances[0])
    assert audio.sample_rate == 16000 and abs(audio.duration - 2.0) < 0.01
    assert np.abs(audio.samples).max() > 0.1


def test_exports_decrypt(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "data", KEY)
    fill(store)
    convert(store, "ljspeech", tmp_path / "out")
    assert len(list((tmp_path / "out").rglob("*.wav"))) == 3


def test_a_missing_or_wrong_key_is_refused_before_any_change(tmp_path: Path) -> None:
    fill(DatasetStore(tmp_path, KEY))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.enc")}
    with pytest.raises(DatasetError, match="is encrypted at rest"):
        DatasetStore(tmp_path)
    with pytest.raises(DatasetError, match="wrong encryption key"):
        DatasetStore(tmp_path, AudioCipher(os.urandom(32)))
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.enc")} == before
    assert len(DatasetStore(tmp_path, KEY).utterances()) == 3


def test_an_unencrypted_dataset_is_not_mixed_with_encrypted_audio(tmp_path: Path) -> None:
    fill(DatasetStore(tmp_path))
    with pytest.raises(DatasetError, match="holds unencrypted audio"):
        DatasetStore(tmp_path, KEY)


def test_a_damaged_or_moved_file_does_not_decrypt(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path, KEY)
    first, second, _ = fill(store)
    damaged = bytearray(store.audio(first).read_bytes())
    damaged[-1] ^= 1
    store.audio(first).write_bytes(bytes(damaged))
    with pytest.raises(DecryptionError, match="wrong key or damaged file"):
        store.read_audio(first)
    store.audio(first).write_bytes(store.audio(second).read_bytes())  # swapped files
    with pytest.raises(DecryptionError):
        store.read_audio(first)


def test_keys_come_as_base64_or_hex_and_must_be_32_bytes(tmp_path: Path) -> None:
    key = os.urandom(32)
    assert (
        AudioCipher.from_text(base64.b64encode(key).decode(), "env").fingerprint
        == AudioCipher(key).fingerprint
    )
    (tmp_path / "key").write_text(key.hex())
    assert AudioCipher.from_file(tmp_path / "key").fingerprint == AudioCipher(key).fingerprint
    with pytest.raises(ConfigError, match="not a 32-byte key"):
        AudioCipher.from_text("c2hvcnQ=", "env")
