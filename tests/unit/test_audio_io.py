"""Decoding every supported format from paths, bytes and file objects; clear errors otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from lbrxvoicepro import Audio, AudioDecodeError
from lbrxvoicepro.audio import decode, encode, load, resample
from tests.conftest import POLISH_CLIPS

CLIP = POLISH_CLIPS[0]


def _ffmpeg_encode(audio: Audio, path: Path, container: str, codec: str, rate: int) -> None:
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        source = resample(audio, rate).samples[: rate * 3]
        stereo = np.stack([source, source]).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(stereo, format="fltp", layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize(
    ("suffix", "container", "codec", "rate"),
    [
        ("mp3", "mp3", "libmp3lame", 44100),
        ("opus", "ogg", "libopus", 48000),
        ("m4a", "mp4", "aac", 44100),
        ("webm", "webm", "libopus", 48000),
    ],
)
def test_compressed_formats_decode_to_the_same_speech(tmp_path, suffix, container, codec, rate):
    original = load(CLIP)
    path = tmp_path / f"clip.{suffix}"
    _ffmpeg_encode(original, path, container, codec, rate)
    decoded = load(path)
    assert decoded.sample_rate == 16000
    assert decoded.duration == pytest.approx(3.0, abs=0.1)
    reference = original.samples[16000 : 16000 * 2]
    best = max(
        np.corrcoef(decoded.samples[16000 + lag : 32000 + lag], reference)[0, 1]
        for lag in range(0, 2000, 2)
    )
    assert best > 0.9


@pytest.mark.parametrize("format", ["wav", "flac", "ogg"])
def test_encode_then_decode_round_trip(tmp_path, format):
    original = load(CLIP)
    target = tmp_path / f"out.{format}"
    encode(original, target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    back = decode(target)
    assert back.sample_rate == 16000
    assert back.duration == pytest.approx(original.duration, abs=0.01)
    tolerance = 1e-3 if format != "ogg" else 0.2
    assert np.abs(back.samples - original.samples).mean() < tolerance


def test_path_bytes_and_file_object_agree_and_stereo_is_downmixed(tmp_path):
    stereo = tmp_path / "stereo.wav"
    mono = load(CLIP)
    buffer = io.BytesIO()
    encode(Audio(mono.samples, 16000), buffer, "wav")
    import soundfile as sf

    sf.write(stereo, np.stack([mono.samples, np.zeros_like(mono.samples)], axis=1), 16000)
    from_path = decode(stereo)
    from_bytes = decode(stereo.read_bytes())
    with open(stereo, "rb") as handle:
        from_file = decode(handle)
    assert np.array_equal(from_path.samples, from_bytes.samples)
    assert np.array_equal(from_path.samples, from_file.samples)
    assert np.allclose(from_path.samples, mono.samples / 2, atol=1e-4)


def test_resampling_keeps_duration():
    audio = load(CLIP, sample_rate=24000)
    assert audio.sample_rate == 24000
    assert audio.duration == pytest.approx(load(CLIP).duration, abs=1e-3)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    wav = CLIP.read_bytes()
    cases = {
        "empty file": (b"", "empty input"),
        "truncated header": (wav[:30], "truncated WAV"),
        "truncated audio": (wav[: len(wav) // 2], "truncated WAV"),
        "text renamed .wav": (b"this is a text file, not audio\n" * 20, "not a recognised audio"),
        "image container": (_png_bytes(tmp_path), "no audio stream"),
    }
    paths = {}
    for name, (data, reason) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.wav"
        path.write_bytes(data)
        paths[name] = (path, reason)
    return paths


def _png_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "image.png"
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 8, 8, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((8, 8, 3), dtype=np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path.read_bytes()


def test_bad_inputs_raise_one_line_errors_naming_file_and_reason(tmp_path):
    for name, (path, reason) in _bad_inputs(tmp_path).items():
        with pytest.raises(AudioDecodeError) as caught:
            load(path)
        message = str(caught.value)
        assert str(path) in message, name
        assert reason in message, (name, message)
        assert "\n" not in message


def test_missing_file_directory_and_bad_arrays(tmp_path):
    with pytest.raises(AudioDecodeError, match="no such file"):
        load(tmp_path / "absent.wav")
    with pytest.raises(AudioDecodeError, match="directory"):
        load(tmp_path)
    with pytest.raises(AudioDecodeError, match="NaN"):
        load(np.array([0.0, np.nan], dtype=np.float32))
