"""Per-utterance quality metrics and the thresholds that accept or reject an utterance."""

from __future__ import annotations

import hashlib

import numpy as np

from lbrxvoicepro.asr.guards import script_share
from lbrxvoicepro.config import ValidationSettings
from lbrxvoicepro.types import Audio, Utterance

FRAME_SECONDS = 0.02
SILENCE_DBFS = -45.0
RECORDED_METRICS = ("prompt_cer",)
"""Measured once, when a take was recorded (its CER against the prompt), and kept by
``validate``, which re-measures the rest from the audio."""
REJECTED_IN_REVIEW = "rejected in review"
ANOTHER_TAKE_KEPT = "another take kept"
REVIEW_REASONS = (REJECTED_IN_REVIEW, ANOTHER_TAKE_KEPT)
"""A person's decisions, which ``validate`` keeps."""


def measure(audio: Audio, utterance: Utterance) -> dict[str, float]:
    """Signal and transcript measurements of one utterance."""
    samples = audio.samples.astype(np.float64)
    frame = max(1, int(FRAME_SECONDS * audio.sample_rate))
    usable = len(samples) // frame * frame
    energies = (samples[:usable].reshape(-1, frame) ** 2).mean(axis=1) + 1e-12
    levels = 10 * np.log10(energies)
    words = len(utterance.text.split())
    return {
        "duration": audio.duration,
        "snr_db": float(np.percentile(levels, 95) - np.percentile(levels, 10)) if usable else 0.0,
        "clipping_ratio": float(np.mean(np.abs(samples) >= 0.999)) if len(samples) else 0.0,
        "loudness_lufs": loudness(audio),
        "silence_ratio": float(np.mean(levels < SILENCE_DBFS)) if usable else 1.0,
        "speaking_rate": words / audio.duration if audio.duration else 0.0,
        "avg_logprob": utterance.avg_logprob,
        "no_speech_prob": utterance.no_speech_prob,
        "compression_ratio": utterance.compression_ratio,
        "script_share": script_share(utterance.text, utterance.language),
    }


def preload() -> None:
    """Import the loudness meter ahead of the first measurement."""
    import pyloudnorm  # noqa: F401


def loudness(audio: Audio) -> float:
    """Integrated loudness (ITU-R BS.1770, LUFS); -70 for silence or clips under 0.4 s."""
    import pyloudnorm

    if audio.duration < 0.4:
        return -70.0
    value = pyloudnorm.Meter(audio.sample_rate).integrated_loudness(audio.samples)
    return float(max(value, -70.0)) if np.isfinite(value) else -70.0


def audio_fingerprint(audio: Audio) -> str:
    """Identical audio (after 16-bit quantization) gives an identical fingerprint."""
    pcm = np.round(np.clip(audio.samples, -1, 1) * 32767).astype("<i2")
    return hashlib.sha256(pcm.tobytes()).hexdigest()


def judge(metrics: dict[str, float], settings: ValidationSettings) -> tuple[str, ...]:
    """Reasons to reject; empty when the utterance passes every threshold."""
    checks = [
        ("duration", metrics["duration"] < settings.min_duration_s, "shorter than"),
        ("duration", metrics["duration"] > settings.max_duration_s, "longer than"),
        ("snr_db", metrics["snr_db"] < settings.min_snr_db, "SNR below"),
        (
            "clipping_ratio",
            metrics["clipping_ratio"] > settings.max_clipping_ratio,
            "clipping above",
        ),
        ("loudness_lufs", metrics["loudness_lufs"] < settings.min_loudness_lufs, "quieter than"),
        ("loudness_lufs", metrics["loudness_lufs"] > settings.max_loudness_lufs, "louder than"),
        ("silence_ratio", metrics["silence_ratio"] > settings.max_silence_ratio, "silence above"),
        (
            "speaking_rate",
            metrics["speaking_rate"] < settings.min_speaking_rate,
            "speaking rate below",
        ),
        (
            "speaking_rate",
            metrics["speaking_rate"] > settings.max_speaking_rate,
            "speaking rate above",
        ),
        ("avg_logprob", metrics["avg_logprob"] < settings.min_avg_logprob, "ASR confidence below"),
        (
            "no_speech_prob",
            metrics["no_speech_prob"] > settings.max_no_speech_prob,
            "no-speech probability above",
        ),
        (
            "compression_ratio",
            metrics["compression_ratio"] > settings.max_compression_ratio,
            "repetitive text: compression ratio above",
        ),
        (
            "script_share",
            metrics["script_share"] < settings.min_script_share,
            "wrong script: share below",
        ),
        (
            "prompt_cer",
            metrics.get("prompt_cer", 0.0) > settings.max_prompt_cer,
            "read differently from the prompt: CER above",
        ),
    ]
    limits = {
        "shorter than": settings.min_duration_s,
        "longer than": settings.max_duration_s,
        "SNR below": settings.min_snr_db,
        "clipping above": settings.max_clipping_ratio,
        "quieter than": settings.min_loudness_lufs,
        "louder than": settings.max_loudness_lufs,
        "silence above": settings.max_silence_ratio,
        "speaking rate below": settings.min_speaking_rate,
        "speaking rate above": settings.max_speaking_rate,
        "ASR confidence below": settings.min_avg_logprob,
        "no-speech probability above": settings.max_no_speech_prob,
        "repetitive text: compression ratio above": settings.max_compression_ratio,
        "wrong script: share below": settings.min_script_share,
        "read differently from the prompt: CER above": settings.max_prompt_cer,
    }
    return tuple(
        f"{name} {metrics[name]:.3g}: {label} {limits[label]:g}"
        for name, failed, label in checks
        if failed
    )
