"""TTS benchmark: time to first audio and real-time factor, per backend, short and long text.

For each voice, a 3-sentence and a 30-sentence text: the median time until the first audio
chunk is in hand and the real-time factor of the whole text (speech seconds per compute
second). Baseline in the same run: raw Piper (``PiperVoice.synthesize`` called directly, the
library's own sentence streaming) on the same voice and text.

    .venv/bin/python bench/tts.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from piper import PiperVoice

from lbrxvoicepro.tts import create_synthesizer
from lbrxvoicepro.tts.csm import CSMSynthesizer
from lbrxvoicepro.tts.piper import resolve_voice

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.tiny_csm import build_tiny_csm

POLISH = [
    "Dzień dobry, nazywam się Anna i mieszkam w Krakowie.",
    "Dzisiaj rano padał deszcz, ale teraz świeci słońce.",
    "Spotkanie zaczyna się o 14:30 w sali numer 5.",
    "Bilet kosztuje 12,50 zł, a karnet 120 zł.",
    "Pociąg do Warszawy odjeżdża z peronu drugiego.",
    "W bibliotece jest ponad 20 000 książek.",
]
ENGLISH = [
    "Good morning, my name is Anna and I live in Cracow.",
    "It rained this morning, but now the sun is shining.",
    "The meeting starts at 2:30 in room number 5.",
    "A ticket costs $12.50 and a pass costs $120.",
    "The train to Warsaw leaves from platform two.",
    "The library holds more than 20,000 books.",
]


def text_of(sentences: list[str], count: int) -> str:
    return " ".join(sentences[i % len(sentences)] for i in range(count))


def measure(
    chunks: Callable[[], Iterable[tuple[np.ndarray, int]]], repeats: int
) -> tuple[float, float]:
    """Median (first-chunk seconds, real-time factor) over repeats."""
    firsts, factors = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        first, speech = None, 0.0
        for samples, rate in chunks():
            if first is None:
                first = time.perf_counter() - started
            speech += len(samples) / rate
        firsts.append(first or 0.0)
        factors.append(speech / (time.perf_counter() - started))
    return statistics.median(firsts), statistics.median(factors)


def ours(synthesizer, text: str) -> Callable[[], Iterator[tuple[np.ndarray, int]]]:
    return lambda: ((c.samples, c.sample_rate) for c in synthesizer.stream(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    espeak = create_synthesizer("espeak:pl")
    piper = create_synthesizer("piper:en_US-joe-medium")
    raw_piper = PiperVoice.load(resolve_voice("en_US-joe-medium"))
    with tempfile.TemporaryDirectory() as directory:
        tiny_csm = CSMSynthesizer(build_tiny_csm(Path(directory)), max_seconds=2.0)

    rows = []
    for sentences in (3, 30):
        polish, english = text_of(POLISH, sentences), text_of(ENGLISH, sentences)
        cases = [
            ("eSpeak NG (pl)", ours(espeak, polish)),
            ("Piper en_US-joe-medium, lbrxvoicepro", ours(piper, english)),
            (
                "Piper en_US-joe-medium, raw library",
                lambda english=english: (
                    (c.audio_float_array, c.sample_rate) for c in raw_piper.synthesize(english)
                ),
            ),
            ("CSM (tiny random model: code path only)", ours(tiny_csm, polish)),
        ]
        for label, chunks in cases:
            repeats = min(args.repeats, 3) if "CSM" in label else args.repeats
            first, factor = measure(chunks, repeats)
            rows.append((label, sentences, first, factor))

    print("| voice | sentences | first chunk ms | real-time factor |")
    print("|---|---|---|---|")
    for label, sentences, first, factor in rows:
        print(f"| {label} | {sentences} | {1000 * first:.1f} | {factor:.1f}x |")
    by_key = {(label, n): first for label, n, first, _ in rows}
    print()
    for label in dict.fromkeys(label for label, *_ in rows):
        growth = by_key[(label, 30)] / by_key[(label, 3)]
        print(f"{label}: first chunk, 30 vs 3 sentences: {growth:.2f}x")
    ours_first = by_key[("Piper en_US-joe-medium, lbrxvoicepro", 30)]
    raw_first = by_key[("Piper en_US-joe-medium, raw library", 30)]
    print(f"Piper first chunk, 30 sentences: lbrxvoicepro / raw = {ours_first / raw_first:.2f}")


if __name__ == "__main__":
    main()
