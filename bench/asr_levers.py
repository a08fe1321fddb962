"""Which decoding levers lower Polish WER with whisper-base, each measured on its own.

Every lever is a set of ``WhisperModel.transcribe`` options (or digital silence added before
or after the audio Whisper is given) applied on top of raw faster-whisper's defaults (beam 5,
word timestamps, language forced), over the same audio in the same run. Reported per set:
corpus WER (word errors over all reference words, after the scoring normalization both sides
share), total decoding time and the slowest clip's time as a multiple of its duration.

Sets: ``../shared/testdata/pl-nemo`` (read speech, 9 speakers; ``--nemo-half even|odd|all``
takes every other clip, so a lever chosen on one half can be confirmed on the other),
``tests/data/pl`` (spontaneous speech) and the English beckett clip.

    .venv/bin/python bench/asr_levers.py [--levers raw,no_fallback,...] [--nemo-half even]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from faster_whisper import WhisperModel
from speech_sets import Clip, corpus_wer, load_sets

from lbrxvoicepro import load_settings
from lbrxvoicepro.asr.window import WindowedWhisperModel
from lbrxvoicepro.models import ModelCatalog

RAW = {"beam_size": 5, "word_timestamps": True}


LEVERS: dict[str, Callable[[Clip], dict[str, object]]] = {
    "raw": lambda clip: {},
    "no_fallback": lambda clip: {"temperature": 0.0},
    "fallback_to_0.4": lambda clip: {"temperature": [0.0, 0.2, 0.4]},
    "no_timestamps": lambda clip: {"without_timestamps": True},
    "no_condition": lambda clip: {"condition_on_previous_text": False},
    "beam_8": lambda clip: {"beam_size": 8},
    "beam_10_patience_2": lambda clip: {"beam_size": 10, "patience": 2.0},
    "greedy": lambda clip: {"beam_size": 1},
    "length_penalty_0.8": lambda clip: {"length_penalty": 0.8},
    "prompt_pl": lambda clip: (
        {"initial_prompt": "Dzień dobry. Nagranie po polsku."} if clip.language == "pl" else {}
    ),
    "suppress_blank_off": lambda clip: {"suppress_blank": False},
    "lead_silence_0.5": lambda clip: {"lead_silence_s": 0.5},
    "lead_silence_1.0": lambda clip: {"lead_silence_s": 1.0},
    "both_silence_0.5": lambda clip: {"lead_silence_s": 0.5, "tail_silence_s": 0.5},
    "hallucination_silence_2s": lambda clip: {"hallucination_silence_threshold": 2.0},
    "repetition_penalty_1.1": lambda clip: {"repetition_penalty": 1.1},
}


def run(model: WhisperModel, clips: list[Clip], lever: Callable[[Clip], dict[str, object]]):
    hypotheses, seconds, worst = [], 0.0, 0.0
    for clip in clips:
        options = {**RAW, "language": clip.language, **lever(clip)}
        lead = np.zeros(round(float(options.pop("lead_silence_s", 0.0)) * 16000), np.float32)
        tail = np.zeros(round(float(options.pop("tail_silence_s", 0.0)) * 16000), np.float32)
        started = time.perf_counter()
        segments, _ = model.transcribe(np.concatenate([lead, clip.samples, tail]), **options)
        text = " ".join(s.text.strip() for s in segments)
        elapsed = time.perf_counter() - started
        seconds += elapsed
        worst = max(worst, elapsed / clip.duration)
        hypotheses.append(text)
    return corpus_wer(clips, hypotheses), seconds, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levers", default=",".join(LEVERS))
    parser.add_argument("--nemo-half", choices=("even", "odd", "all"), default="all")
    parser.add_argument("--sets", default="pl-nemo,pl-spontaneous,en-beckett")
    parser.add_argument(
        "--min-window",
        type=float,
        default=30.0,
        help="encoder window in seconds (30: the library's; less: the project's fitted window)",
    )
    args = parser.parse_args()
    settings = load_settings()
    path = str(ModelCatalog(settings.cache_dir).resolve(settings.asr.model))
    compute_type = settings.asr.compute_type
    model = (
        WhisperModel(path, device="cpu", compute_type=compute_type)
        if args.min_window >= 30
        else WindowedWhisperModel(
            path, device="cpu", compute_type=compute_type, min_window_s=args.min_window
        )
    )
    sets = {name: clips for name, clips in load_sets(args.nemo_half).items()}
    chosen = args.sets.split(",")
    print(
        f"model {settings.asr.model} ({compute_type}), encoder window {args.min_window:g} s, "
        f"pl-nemo {args.nemo_half}"
    )
    print("| lever | " + " | ".join(f"{s} WER | s | worst x" for s in chosen) + " |")
    print("|---|" + "---|---|---|" * len(chosen))
    baseline: dict[str, float] = {}
    for name in args.levers.split(","):
        cells = []
        for set_name in chosen:
            error, seconds, worst = run(model, sets[set_name], LEVERS[name])
            baseline.setdefault(set_name, error)
            change = (error / baseline[set_name] - 1) * 100 if baseline[set_name] else 0.0
            cells.append(f"{error:.4f} ({change:+.1f}%) | {seconds:.1f} | {worst:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    median = statistics.median(c.duration for c in sets["pl-nemo"])
    print(f"\n(median clip of pl-nemo: {median:.1f} s)")


if __name__ == "__main__":
    main()
