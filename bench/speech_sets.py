"""The real speech the ASR benchmarks score: read Polish (pl-nemo), spontaneous Polish
(tests/data/pl) and English (beckett), decoded to 16 kHz once, with human transcripts."""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np

from lbrxvoicepro.audio import load
from lbrxvoicepro.text.scoring import normalize_for_scoring

ROOT = Path(__file__).resolve().parent.parent
NEMO = ROOT.parent / "shared" / "testdata" / "pl-nemo"
SPONTANEOUS = ROOT / "tests" / "data" / "pl"
BECKETT_TEXT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."


@dataclass(frozen=True)
class Clip:
    name: str
    samples: np.ndarray
    reference: str
    language: str

    @property
    def duration(self) -> float:
        return len(self.samples) / 16000


def beckett_path() -> Path:
    spec = importlib.util.find_spec("moonshine_onnx")
    assert spec is not None and spec.origin
    return Path(spec.origin).parent / "assets" / "beckett.wav"


def load_sets(nemo_half: str = "all") -> dict[str, list[Clip]]:
    """``nemo_half`` even/odd takes every other pl-nemo clip (tune on one, confirm on the
    other), all takes the 360."""
    with open(NEMO / "MANIFEST.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if nemo_half != "all":
        rows = rows[0 if nemo_half == "even" else 1 :: 2]
    return {
        "pl-nemo": [Clip(r["file"], load(NEMO / r["file"]).samples, r["text"], "pl") for r in rows],
        "pl-spontaneous": [
            Clip(p.name, load(p).samples, p.with_suffix(".txt").read_text(encoding="utf-8"), "pl")
            for p in sorted(SPONTANEOUS.glob("*.wav"))
        ],
        "en-beckett": [Clip("beckett.wav", load(beckett_path()).samples, BECKETT_TEXT, "en")],
    }


def corpus_wer(clips: list[Clip], hypotheses: list[str]) -> float:
    """Word errors over all reference words, after the normalization both sides share."""
    references = [normalize_for_scoring(c.reference) for c in clips]
    return float(jiwer.wer(references, [normalize_for_scoring(h) or "-" for h in hypotheses]))
