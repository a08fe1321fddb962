"""The validation report: ``validation.json`` (every utterance with its id, verdict, reasons and
metrics) and ``validation.html``, a page to open from the dataset folder: one chart per metric
with axes, counts and the thresholds drawn in (matplotlib, inline SVG, nothing fetched), and
every rejected utterance, then the accepted ones, each with a player."""

from __future__ import annotations

import dataclasses
import html
import io
import json
from pathlib import Path

import numpy as np

from lbrxvoicepro.dataset.exporters.base import write_text
from lbrxvoicepro.dataset.validate import JudgedUtterance, ValidationReport

MAX_ROWS = 2000
"""Utterances listed on the page (rejected first); the JSON has them all."""
LABELS = {
    "duration": "duration (s)",
    "snr_db": "signal to noise (dB)",
    "clipping_ratio": "share of clipped samples",
    "loudness_lufs": "loudness (LUFS)",
    "silence_ratio": "share of silence",
    "speaking_rate": "speaking rate (words/s)",
    "avg_logprob": "ASR mean log-probability",
    "no_speech_prob": "ASR no-speech probability",
    "compression_ratio": "transcript compression ratio",
    "script_share": "share of letters in the language's script",
    "prompt_cer": "CER against the prompt (studio takes)",
}


def write_report(report: ValidationReport, directory: Path) -> tuple[Path, Path]:
    """Both files into ``directory`` (the dataset folder: the page's players find the audio
    there), private to the owner like the rest of the store."""
    json_path, html_path = directory / "validation.json", directory / "validation.html"
    report_json = json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=1)
    write_text(json_path, report_json, mode=0o600)
    write_text(html_path, _page(report), mode=0o600)
    return json_path, html_path


def chart(name: str, values: list[float], limits: dict[str, float]) -> str:
    """A histogram of one metric as inline SVG: counts on the y axis, the thresholds as dashed
    lines; values that are all equal make one labelled bar, not an invented range."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(4.4, 2.7))
    axes = figure.subplots()
    data = np.asarray(values, dtype=float)
    if np.ptp(data) == 0:
        marks = [data[0], *limits.values()]
        span = float(np.ptp(marks)) or max(abs(float(data[0])), 1.0)
        axes.bar([data[0]], [len(data)], width=span * 0.04, color="#4a7")
        axes.set_xlim(min(marks) - span * 0.1, max(marks) + span * 0.1)
        axes.set_title(f"all {len(data)} equal to {data[0]:.4g}", fontsize=8)
    else:
        axes.hist(data, bins=min(30, max(5, len(data) // 3)), color="#4a7")
    for bound, value in sorted(limits.items()):
        line = axes.axvline(value, color="#c0392b", linestyle="--", linewidth=1.2)
        line.set_label(f"{bound} {value:g}")
        line.set_gid(f"threshold-{bound}")
    if limits:
        axes.legend(fontsize=7, loc="best")
    axes.set_xlabel(LABELS.get(name, name), fontsize=8)
    axes.set_ylabel("utterances", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # inline: without the XML declaration and doctype


def _page(report: ValidationReport) -> str:
    figures = "".join(
        f'<figure data-metric="{html.escape(name)}">'
        f"{chart(name, report.values(name), report.thresholds.get(name, {}))}</figure>"
        for name in report.metric_names
        if report.values(name)
    )
    reasons = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in report.reasons.items())
    ordered = sorted(report.utterances, key=lambda u: (u.status != "rejected", -len(u.reasons)))
    rows = "".join(_row(number, u) for number, u in enumerate(ordered[:MAX_ROWS], 1))
    more = (
        f"<p>{len(ordered) - MAX_ROWS} more utterances are in validation.json.</p>"
        if len(ordered) > MAX_ROWS
        else ""
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Dataset validation</title>"
        "<style>body{font:15px/1.4 system-ui,sans-serif;margin:1.5em}figure{display:inline-block;"
        "margin:.4em}figure svg{width:440px;height:auto}table{border-collapse:collapse}td,th{"
        "border-top:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}"
        ".rejected td:nth-child(4){color:#b00020}audio{height:2em}</style>"
        f"<h1>Validation of {html.escape(report.dataset)}</h1>"
        f"<p>{report.total} utterances: {report.accepted} accepted, {report.rejected} rejected."
        " Dashed red lines are the thresholds (<code>dataset.validation</code> settings).</p>"
        f"<h2>Rejection reasons</h2><ul>{reasons or '<li>none</li>'}</ul>"
        f"<h2>Metrics</h2>{figures}"
        "<h2>Utterances</h2><p>Rejected first, each with why.</p>"
        "<table><tr><th>#</th><th>id</th><th>speaker</th><th>verdict</th><th>duration</th>"
        f"<th>text</th><th>listen</th></tr>{rows}</table>{more}</html>"
    )


def _row(number: int, utterance: JudgedUtterance) -> str:
    verdict = "; ".join(utterance.reasons) if utterance.reasons else "accepted"
    player = (
        "encrypted"
        if utterance.audio.endswith(".enc")
        else f'<audio controls preload="none" src="{html.escape(utterance.audio)}"></audio>'
    )
    return (
        f'<tr class="{utterance.status}"><td>{number}</td><td>{html.escape(utterance.id)}</td>'
        f"<td>{html.escape(utterance.speaker)}</td><td>{html.escape(verdict)}</td>"
        f"<td>{utterance.duration:.1f} s</td><td>{html.escape(utterance.text)}</td>"
        f"<td>{player}</td></tr>"
    )
