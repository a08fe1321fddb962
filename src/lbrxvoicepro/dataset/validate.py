"""``validate``: re-measure every utterance, judge it, find duplicates, report.

Results are stored per utterance (status, reasons, metrics); the report is JSON plus an HTML
page with a histogram per metric and the worst offenders.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lbrxvoicepro.config import ValidationSettings
from lbrxvoicepro.dataset.exporters.base import write_text
from lbrxvoicepro.dataset.quality import audio_fingerprint, judge, measure
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.errors import AudioDecodeError


@dataclass
class Offender:
    id: str
    speaker: str
    text: str
    reasons: list[str]
    audio: str


@dataclass
class ValidationReport:
    dataset: str
    total: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    worst: list[Offender] = field(default_factory=list)


def validate(
    store: DatasetStore, settings: ValidationSettings, advance: Callable[[], None] | None = None
) -> ValidationReport:
    report = ValidationReport(str(store.root))
    seen: dict[str, str] = {}
    reasons_count: Counter[str] = Counter()
    judged = []
    for utterance in store.utterances():
        try:
            audio = store.read_audio(utterance)
        except AudioDecodeError as error:
            metrics: dict[str, float] = {}
            reasons: tuple[str, ...] = (f"unreadable audio: {error.reason}",)
        else:
            metrics = measure(audio, utterance)
            reasons = judge(metrics, settings)
            fingerprint = audio_fingerprint(audio)
            if fingerprint in seen:
                reasons += (f"duplicate audio of {seen[fingerprint]}",)
            seen.setdefault(fingerprint, utterance.id)
        if not utterance.text:
            reasons = ("no words recognised", *reasons)
        status = "rejected" if reasons else "accepted"
        store.set_quality(utterance.id, status, reasons, metrics)
        judged.append((dataclasses.replace(utterance, status=status, reasons=reasons), metrics))
        reasons_count.update(_kind(reason) for reason in reasons)
        for name, value in metrics.items():
            report.metrics.setdefault(name, []).append(round(value, 4))
        if advance:
            advance()
    report.total = len(judged)
    report.accepted = sum(u.status == "accepted" for u, _ in judged)
    report.rejected = report.total - report.accepted
    report.reasons = dict(reasons_count.most_common())
    offenders = sorted(
        judged, key=lambda item: (-len(item[0].reasons), item[1].get("avg_logprob", 0))
    )
    report.worst = [
        Offender(u.id, u.speaker_id, u.text, list(u.reasons), u.audio_path)
        for u, _ in offenders[:20]
        if u.reasons
    ]
    return report


def _kind(reason: str) -> str:
    """What a reason is about: the metric's name, or the reason's fixed text."""
    for fixed in ("duplicate audio", "unreadable audio", "no words recognised"):
        if reason.startswith(fixed):
            return fixed
    return reason.split(" ")[0]


def write_report(report: ValidationReport, directory: Path) -> tuple[Path, Path]:
    json_path, html_path = directory / "validation.json", directory / "validation.html"
    report_json = json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=1)
    write_text(json_path, report_json, mode=0o600)
    write_text(html_path, _html(report), mode=0o600)
    return json_path, html_path


def _histogram(name: str, values: list[float], bins: int = 20) -> str:
    counts, edges = np.histogram(values, bins=bins)
    tallest = max(int(counts.max()), 1)
    bars = "".join(
        f'<rect x="{i * 15}" y="{100 - 100 * c / tallest:.1f}" width="13" '
        f'height="{100 * c / tallest:.1f}"><title>{edges[i]:.3g}–{edges[i + 1]:.3g}: {c}'
        "</title></rect>"
        for i, c in enumerate(counts)
    )
    return (
        f"<figure><figcaption>{html.escape(name)} ({edges[0]:.3g} … {edges[-1]:.3g})"
        f'</figcaption><svg width="{bins * 15}" height="100" fill="#4a7">{bars}</svg></figure>'
    )


def _html(report: ValidationReport) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(w.id)}</td><td>{html.escape(w.speaker)}</td>"
        f"<td>{html.escape(w.text)}</td><td>{html.escape('; '.join(w.reasons))}</td></tr>"
        for w in report.worst
    )
    reasons = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in report.reasons.items())
    figures = "".join(_histogram(n, v) for n, v in report.metrics.items() if v)
    return (
        "<!doctype html><meta charset=utf-8><title>Dataset validation</title>"
        "<style>body{font-family:sans-serif;margin:2em}figure{display:inline-block;margin:1em}"
        "td{border-top:1px solid #ccc;padding:.3em}</style>"
        f"<h1>Validation of {html.escape(report.dataset)}</h1>"
        f"<p>{report.total} utterances: {report.accepted} accepted, {report.rejected} rejected.</p>"
        f"<h2>Rejection reasons</h2><ul>{reasons or '<li>none</li>'}</ul>"
        f"<h2>Metrics</h2>{figures}"
        f"<h2>Worst offenders</h2><table><tr><th>id</th><th>speaker</th><th>text</th>"
        f"<th>reasons</th></tr>{rows}</table>"
    )
