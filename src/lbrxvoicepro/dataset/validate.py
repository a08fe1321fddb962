"""``validate``: re-measure every utterance, judge it, find duplicates.

Results are stored per utterance (status, reasons, metrics) and returned as a report, which
``dataset.report`` writes as JSON and as an HTML page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from lbrxvoicepro.config import ValidationSettings
from lbrxvoicepro.dataset.quality import (
    RECORDED_METRICS,
    REVIEW_REASONS,
    audio_fingerprint,
    judge,
    measure,
)
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.errors import AudioDecodeError


@dataclass
class JudgedUtterance:
    """One row of the report: an utterance, its verdict and the metrics it was judged by."""

    id: str
    speaker: str
    status: str
    text: str
    duration: float
    audio: str
    """Its audio file, relative to the dataset folder."""
    reasons: list[str]
    metrics: dict[str, float]


@dataclass
class ValidationReport:
    dataset: str
    total: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per metric, the ``min`` and/or ``max`` an utterance must keep to."""
    utterances: list[JudgedUtterance] = field(default_factory=list)

    def values(self, metric: str) -> list[float]:
        return [u.metrics[metric] for u in self.utterances if metric in u.metrics]

    @property
    def metric_names(self) -> list[str]:
        return list(dict.fromkeys(name for u in self.utterances for name in u.metrics))


def validate(
    store: DatasetStore, settings: ValidationSettings, advance: Callable[[], None] | None = None
) -> ValidationReport:
    report = ValidationReport(str(store.root), thresholds=thresholds(settings))
    seen: dict[str, str] = {}
    reasons_count: Counter[str] = Counter()
    for utterance in store.utterances():
        try:
            audio = store.read_audio(utterance)
        except AudioDecodeError as error:
            metrics: dict[str, float] = {}
            reasons: tuple[str, ...] = (f"unreadable audio: {error.reason}",)
        else:
            # what was measured once, when it was recorded: a take's CER against its prompt
            recorded = {k: v for k, v in utterance.metrics.items() if k in RECORDED_METRICS}
            metrics = {**measure(audio, utterance), **recorded}
            reasons = judge(metrics, settings)
            reasons += tuple(r for r in utterance.reasons if r in REVIEW_REASONS)
            fingerprint = audio_fingerprint(audio)
            if fingerprint in seen:
                reasons += (f"duplicate audio of {seen[fingerprint]}",)
            seen.setdefault(fingerprint, utterance.id)
        if not utterance.text:
            reasons = ("no words recognised", *reasons)
        status = "rejected" if reasons else "accepted"
        store.set_quality(utterance.id, status, reasons, metrics)
        report.utterances.append(
            JudgedUtterance(
                utterance.id,
                utterance.speaker_id,
                status,
                utterance.text,
                round(utterance.duration, 3),
                utterance.audio_path,
                list(reasons),
                {name: round(value, 4) for name, value in metrics.items()},
            )
        )
        reasons_count.update(_kind(reason) for reason in reasons)
        if advance:
            advance()
    report.total = len(report.utterances)
    report.accepted = sum(u.status == "accepted" for u in report.utterances)
    report.rejected = report.total - report.accepted
    report.reasons = dict(reasons_count.most_common())
    return report


def thresholds(settings: ValidationSettings) -> dict[str, dict[str, float]]:
    """The settings' ``min_*``/``max_*`` limits by the metric they bound (``duration`` for
    ``min_duration_s``)."""
    limits: dict[str, dict[str, float]] = {}
    for name, value in settings.model_dump().items():
        bound, _, metric = name.partition("_")
        if bound in ("min", "max"):
            metric = metric.removesuffix("_s") if metric == "duration_s" else metric
            limits.setdefault(metric, {})[bound] = float(value)
    return limits


def _kind(reason: str) -> str:
    """What a reason is about: the metric's name, or the reason's fixed text."""
    for fixed in ("duplicate audio", "unreadable audio", "no words recognised"):
        if reason.startswith(fixed):
            return fixed
    return reason.split(" ")[0]
