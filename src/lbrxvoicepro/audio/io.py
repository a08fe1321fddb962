"""Decode and encode audio.

libsndfile (soundfile) reads WAV, FLAC and Ogg directly and precisely; everything else (MP3,
Opus, M4A/AAC, WebM, ...) goes through FFmpeg via PyAV. Audio is decoded block by block, each
block scaled to float and averaged to mono at once, so memory follows the mono length, not the
channel count; ``DecodeLimits`` refuse, from the header and again while decoding, audio whose
decoded size is over a cap (a few hundred KB of compressed silence can hold hours). The result
is resampled with soxr. Any failure becomes an ``AudioDecodeError`` naming the input.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

from lbrxvoicepro.errors import AudioDecodeError, AudioTooLarge
from lbrxvoicepro.types import Audio

AudioSource = str | os.PathLike[str] | bytes | bytearray | BinaryIO | np.ndarray | Audio
ENCODE_FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "opus": ("OGG", "OPUS"),
    "aac": ("ADTS", "AAC"),  # written by FFmpeg (PyAV): libsndfile has no AAC
    "pcm": ("RAW", "PCM_16"),
}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def source_name(source: AudioSource) -> str:
    """How an input is named in messages: its path, or what kind of object it is."""
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, bytes | bytearray):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray | Audio):
        return "<array>"
    return str(getattr(source, "name", "<stream>"))


@dataclass(frozen=True)
class DecodeLimits:
    """Caps on one input's decoded audio, checked before decoding and enforced during it."""

    max_seconds: float
    max_decoded_mb: float
    """duration × sample rate × channels × 4 bytes (float32): the work decoding would do."""

    def check(self, name: str, seconds: float, rate: int, channels: int) -> None:
        decoded_mb = seconds * rate * max(channels, 1) * 4 / 2**20
        if seconds > self.max_seconds:
            raise AudioTooLarge(
                name, f"{seconds:.0f} s of audio, over the limit of {self.max_seconds:.0f} s"
            )
        if decoded_mb > self.max_decoded_mb:
            raise AudioTooLarge(
                name,
                f"{seconds:.0f} s × {rate} Hz × {channels} channel(s) decodes to "
                f"{decoded_mb:.0f} MB, over the limit of {self.max_decoded_mb:.0f} MB",
            )


def load(
    source: AudioSource, sample_rate: int = 16000, limits: DecodeLimits | None = None
) -> Audio:
    """Any supported input as mono float32 at ``sample_rate``.

    A bare numpy array is taken to be at ``sample_rate`` already; pass an ``Audio`` to say
    otherwise.
    """
    if isinstance(source, Audio):
        return resample(source, sample_rate)
    if isinstance(source, np.ndarray):
        return Audio(_as_mono_float(source, "<array>"), sample_rate)
    return resample(decode(source, limits), sample_rate)


def decode(
    source: str | os.PathLike[str] | bytes | bytearray | BinaryIO,
    limits: DecodeLimits | None = None,
) -> Audio:
    """Decode a path, bytes or file object to mono float32 at the file's own rate."""
    name = source_name(source)
    data = _read_bytes(source, name)
    if not data:
        raise AudioDecodeError(name, "empty input (0 bytes)")
    _check_wav_complete(data, name)
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        samples, rate = _decode_with_ffmpeg(data, name, limits)
    else:
        samples, rate = _decode_with_libsndfile(data, name, info, limits)
    if samples.size == 0:
        raise AudioDecodeError(name, "the audio stream holds no samples")
    if not np.all(np.isfinite(samples)):
        raise AudioDecodeError(name, "samples contain NaN or infinity")
    return Audio(samples, int(rate))


def resample(audio: Audio, sample_rate: int) -> Audio:
    if audio.sample_rate == sample_rate:
        return audio
    samples = soxr.resample(audio.samples, audio.sample_rate, sample_rate, quality="HQ")
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), sample_rate)


def umask_mode() -> int:
    """The permissions a new file gets from the umask (``mkstemp`` always makes 0600, which
    a training job running as another user cannot read). Read from /proc where it is
    available: setting the umask to read it would race with other threads creating files."""
    try:
        status = Path("/proc/self/status").read_text()
        umask = int(next(line for line in status.splitlines() if line.startswith("Umask:"))[6:], 8)
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o077)
        os.umask(umask)
    return 0o666 & ~umask


def encode(
    audio: Audio,
    destination: str | os.PathLike[str] | BinaryIO,
    format: str | None = None,
    mode: int | None = None,
) -> None:
    """Write wav, flac, ogg (Vorbis), mp3, opus (Ogg), aac (ADTS) or raw 16-bit PCM (pcm);
    paths are written atomically, with ``mode`` or else the permissions the umask gives."""
    if format is None:
        if not isinstance(destination, str | os.PathLike):
            raise ValueError("format is required when writing to a file object")
        format = Path(destination).suffix.lstrip(".").lower()
    if format not in ENCODE_FORMATS:
        raise ValueError(f"cannot encode {format!r}; choose one of {', '.join(ENCODE_FORMATS)}")
    if not isinstance(destination, str | os.PathLike):
        _write(destination, audio, format)
        return
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(descriptor, umask_mode() if mode is None else mode)
        with os.fdopen(descriptor, "wb") as handle:
            _write(handle, audio, format)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write(handle: BinaryIO, audio: Audio, format: str) -> None:
    samples, rate = np.clip(audio.samples, -1.0, 1.0).astype(np.float32), audio.sample_rate
    if format == "aac":
        _write_aac(handle, samples, rate)
        return
    if format == "opus" and rate not in OPUS_RATES:  # Opus runs at these rates only
        target = next((r for r in OPUS_RATES if r >= rate), OPUS_RATES[-1])
        samples, rate = resample(Audio(samples, rate), target).samples, target
    container, subtype = ENCODE_FORMATS[format]
    sf.write(handle, samples, rate, format=container, subtype=subtype)


def _write_aac(handle: BinaryIO, samples: np.ndarray, rate: int) -> None:
    import av

    with av.open(handle, mode="w", format="adts") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[np.newaxis, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in (*stream.encode(frame), *stream.encode(None)):
            container.mux(packet)


def _read_bytes(source: str | os.PathLike[str] | bytes | bytearray | BinaryIO, name: str) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise AudioDecodeError(name, "no such file")
        if path.is_dir():
            raise AudioDecodeError(name, "is a directory, not an audio file")
        try:
            return path.read_bytes()
        except OSError as error:
            raise AudioDecodeError(name, f"cannot read: {error.strerror}") from error
    return source.read()


def _check_wav_complete(data: bytes, name: str) -> None:
    """libsndfile quietly reads a cut-off WAV; say so instead of returning half the audio."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        return
    position = 12
    while position + 8 <= len(data):
        chunk_id = data[position : position + 4]
        (chunk_size,) = struct.unpack("<I", data[position + 4 : position + 8])
        if chunk_id == b"data":
            available = len(data) - position - 8
            if chunk_size > available and chunk_size != 0xFFFFFFFF:
                raise AudioDecodeError(
                    name,
                    f"truncated WAV: header declares {chunk_size} bytes of audio, "
                    f"file holds {available}",
                )
            return
        position += 8 + chunk_size + (chunk_size & 1)
    raise AudioDecodeError(name, "truncated WAV: no audio data chunk")


def _decode_with_libsndfile(
    data: bytes, name: str, info: sf._SoundFileInfo, limits: DecodeLimits | None
) -> tuple[np.ndarray, int]:
    if limits is not None:
        limits.check(name, info.frames / max(info.samplerate, 1), info.samplerate, info.channels)
    try:
        blocks = sf.blocks(io.BytesIO(data), blocksize=1 << 16, dtype="float32", always_2d=True)
        mono = (block.mean(axis=1) for block in blocks)
        return _joined(name, mono, info.samplerate, limits), info.samplerate
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioDecodeError(name, f"cannot decode: {error}") from error


def _decode_with_ffmpeg(
    data: bytes, name: str, limits: DecodeLimits | None
) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                kinds = sorted({str(stream.type) for stream in container.streams}) or ["nothing"]
                raise AudioDecodeError(
                    name,
                    f"unsupported content: {container.format.name} container with "
                    f"{', '.join(kinds)} but no audio stream",
                )
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or stream.rate
            if limits is not None and rate and container.duration:
                channels = stream.codec_context.channels
                limits.check(name, container.duration / av.time_base, rate, channels)
            samples = _joined(name, _ffmpeg_mono(container.decode(stream)), rate or 1, limits)
    except AudioDecodeError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as error:
        raise AudioDecodeError(name, _ffmpeg_reason(error)) from error
    if not samples.size or not rate:
        raise AudioDecodeError(name, "the audio stream holds no decodable frames")
    return samples, int(rate)


def _ffmpeg_mono(frames: Iterator) -> Iterator[np.ndarray]:  # type: ignore[type-arg]
    """Each frame as mono float32: integer samples are scaled first, then channels averaged."""
    for frame in frames:
        channels = frame.layout.nb_channels
        array = frame.to_ndarray()
        if frame.format.is_planar:
            array = array.reshape(channels, -1)
        else:
            array = array.reshape(-1, channels).T
        if np.issubdtype(array.dtype, np.integer):
            array = array.astype(np.float32) / np.iinfo(array.dtype.type).max
        yield array.astype(np.float32, copy=False).mean(axis=0)


def _joined(
    name: str, blocks: Iterator[np.ndarray], rate: int, limits: DecodeLimits | None
) -> np.ndarray:
    """Mono blocks concatenated; stops (and refuses the input) as soon as the limit is passed,
    for files whose header understates their length."""
    kept, total = [], 0
    for block in blocks:
        kept.append(block)
        total += len(block)
        if limits is not None and total / rate > limits.max_seconds:
            limits.check(name, total / rate, rate, 1)
    if not kept:
        return np.zeros(0, np.float32)
    return np.ascontiguousarray(np.concatenate(kept), dtype=np.float32)


def _ffmpeg_reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    if "Invalid data found" in text:
        return "not a recognised audio format (unknown or corrupt data)"
    return f"cannot decode: {text}"


def _as_mono_float(samples: np.ndarray, name: str) -> np.ndarray:
    """An array given by a caller: integer samples scaled to [-1, 1] before any averaging."""
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / np.iinfo(samples.dtype.type).max
    if samples.ndim == 2:
        samples = samples.mean(axis=1) if samples.shape[1] <= samples.shape[0] else samples.mean(0)
    elif samples.ndim != 1:
        raise AudioDecodeError(name, f"expected 1 or 2 dimensions, got {samples.ndim}")
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if not np.all(np.isfinite(samples)):
        raise AudioDecodeError(name, "samples contain NaN or infinity")
    return samples
