"""Word and character error rates after a normalization both sides share.

Scoring compares words, not typography: case, punctuation and spacing are ignored, and
hesitation fillers ("yyy", "eee", "mhm", "um") are removed from reference and hypothesis alike,
because they are not words and Whisper, rightly, does not write them.
"""

from __future__ import annotations

import re
import unicodedata

import jiwer

FILLER = re.compile(r"^(y+|e+|ee+m+|y+m+|m+|mhm+|hm+|yhy+|aha|um+|uh+|ah+|eh+|er+m*)$")
_PUNCTUATION = re.compile(r"[^\w\s']|_", re.UNICODE)


def normalize_for_scoring(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = _PUNCTUATION.sub(" ", text.replace("’", "'"))
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w and not FILLER.match(w))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate over the normalized texts (1.0 when the reference is empty but not both)."""
    ref, hyp = normalize_for_scoring(reference), normalize_for_scoring(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp)) if hyp else 1.0


def cer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize_for_scoring(reference), normalize_for_scoring(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.cer(ref, hyp)) if hyp else 1.0
