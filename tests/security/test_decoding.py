"""Findings 2 and 5: a tiny file that decodes to gigabytes, integer audio from FFmpeg, and a
time budget per decode."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import soundfile as sf

from lbrxvoicepro import Audio
from lbrxvoicepro.asr.whisper import FasterWhisperTranscriber
from lbrxvoicepro.audio import decode, load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from tests.backends.test_whisper import RecordingModel
from tests.conftest import POLISH_CLIPS
from tests.security.conftest import Target, Watch


@pytest.fixture(scope="session")
def silent_hour_of_six_channels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 minutes of 48 kHz six-channel digital silence: a few hundred KB of FLAC."""
    path = tmp_path_factory.mktemp("silence") / "silence.flac"
    block = np.zeros((48000 * 60, 6), dtype=np.int16)
    with sf.SoundFile(path, "w", 48000, 6, "PCM_16", format="FLAC") as output:
        for _ in range(30):
            output.write(block)
    return path


def test_compressed_silence_is_refused_before_decoding(
    target: Target, watch: Watch, silent_hour_of_six_channels: Path
) -> None:
    data = silent_hour_of_six_channels.read_bytes()
    assert len(data) < 2 * 2**20
    before = target.rss_mb()
    response = httpx.post(
        f"{target.url}/v1/audio/transcriptions",
        headers=target.headers(),
        files={"file": ("silence.flac", data)},
        timeout=120,
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["type"] == "AudioTooLarge"
    assert error["message"].startswith("silence.flac: 1800 s × 48000 Hz × 6 channel(s)")
    assert max([*watch.rss_mb, target.rss_mb()]) - before < 100


def test_a_header_that_understates_the_length_is_stopped_while_decoding() -> None:
    """The cap holds on the samples decoded, not only on what a header claims."""
    from lbrxvoicepro.audio import DecodeLimits
    from lbrxvoicepro.errors import AudioTooLarge

    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(16000 * 20, np.float32), 16000, format="WAV", subtype="PCM_16")
    limits = DecodeLimits(max_seconds=5, max_decoded_mb=1024)
    with pytest.raises(AudioTooLarge, match="over the limit of 5 s"):
        decode(buffer.getvalue(), limits)
    assert decode(buffer.getvalue()).duration == 20.0


def test_integer_samples_from_ffmpeg_are_scaled_before_the_channels_are_averaged() -> None:
    """16-bit stereo in Matroska (read by FFmpeg, not libsndfile): peaks stay at 0.5."""
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as container:
        stream = container.add_stream("pcm_s16le", rate=16000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            np.stack([tone, tone]).T.reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    audio = decode(buffer.getvalue())
    assert audio.sample_rate == 16000 and abs(audio.duration - 1.0) < 0.05
    assert 0.45 < float(np.abs(audio.samples).max()) <= 0.51


@pytest.mark.engines("whisper")
def test_a_decode_past_its_time_budget_goes_on_without_temperature_fallback(
    settings: Settings, models: ModelManager, caplog: pytest.LogCaptureFixture
) -> None:
    """50 s of speech in two clips of at least 5 s (each would fall back): with no time to
    spare, every clip is decoded once at the first temperature, and the log says so."""
    bundled = models.transcriber()
    joined = Audio(
        np.concatenate([load(POLISH_CLIPS[2]).samples, load(POLISH_CLIPS[1]).samples]), 16000
    )
    calls = {}
    for factor in (1.0, 0.0):
        recording = RecordingModel(bundled.model)
        asr = settings.asr.model_copy(update={"decode_time_factor": factor})
        transcriber = FasterWhisperTranscriber(recording, bundled.vad, asr, settings.vad)
        with caplog.at_level(logging.WARNING, "lbrxvoicepro.asr.whisper"):
            transcriber.transcribe(joined, "pl")
        calls[factor] = [
            (seconds, options["temperature"]) for seconds, options, _ in recording.calls
        ]
    temperatures = list(settings.asr.temperatures)
    assert len(calls[0.0]) >= 2 and [s for s, _ in calls[0.0]] == [s for s, _ in calls[1.0]]
    assert all(seconds >= settings.asr.min_fallback_s for seconds, _ in calls[0.0])
    assert all(used == temperatures for _, used in calls[1.0])
    assert all(used == temperatures[:1] for _, used in calls[0.0])
    assert "without temperature fallback" in caplog.text
