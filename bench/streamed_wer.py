"""Streamed finals vs whole-utterance decoding: does recognising the question while the turn
is still open cost accuracy?

Every clip of ``../shared/testdata/pl-nemo`` (360 read sentences, 9 speakers) and of
``tests/data/pl`` (spontaneous speech), with 1 s of silence before and 2.5 s after, goes through
the conversation's listener frame by frame (Silero VAD, smart-turn, the 100 ms draft), and each
turn's final transcript is made as the engine makes it: the draft taken at the pause when no
more speech followed, else the turn's audio. The baseline decodes each clip once, whole, with
the same Whisper settings (``question_asr``: the conversation's beam, no word timings). Both are
scored as corpus WER against the human transcripts.

    .venv/bin/python bench/streamed_wer.py [--nemo ../shared/testdata/pl-nemo] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation import question_asr
from lbrxvoicepro.conversation.listener import Draft, Listener
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.text import wer
from lbrxvoicepro.types import Audio

FRAME = 1600
BEFORE_S, AFTER_S = 1.0, 2.5


def clips(nemo: Path, limit: int | None) -> list[tuple[str, Path, str]]:
    """(set, path, reference) for every clip."""
    rows = list(csv.DictReader((nemo / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
    found = [("pl-nemo", nemo / row["file"], row["text"]) for row in rows]
    spontaneous = sorted(Path("tests/data/pl").glob("*.wav"))
    found += [
        ("spontaneous", p, p.with_suffix(".txt").read_text(encoding="utf-8")) for p in spontaneous
    ]
    return found[:limit] if limit else found


def streamed(models: ModelManager, settings: Settings, clip: np.ndarray) -> tuple[str, int, int]:
    """The conversation's final transcripts of ``clip`` spoken alone, and how many turns
    took their draft (recognised at the pause) versus their whole audio."""
    asr = question_asr(settings)
    transcriber = models.transcriber(asr)
    listener = Listener(
        models.vad(), models.turn_detector(settings.conversation.turn_model), settings.vad,
        settings.conversation,
    )  # fmt: skip
    padded = np.concatenate(
        [np.zeros(int(BEFORE_S * 16000), np.float32), clip, np.zeros(int(AFTER_S * 16000))]
    ).astype(np.float32)
    draft: Draft | None = None
    texts, drafted, whole = [], 0, 0
    for first in range(0, len(padded), FRAME):
        heard = listener.hear(padded[first : first + FRAME], answering=False)
        if heard.draft is not None:
            draft = heard.draft
        for utterance in heard.utterances:
            if draft is not None and draft.speech_end == utterance.speech_end:
                audio, drafted = draft.audio, drafted + 1
            else:
                audio, whole = utterance.audio, whole + 1
            texts.append(transcriber.transcribe(audio, "pl").text)
    return " ".join(texts), drafted, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nemo", type=Path, default=Path("../shared/testdata/pl-nemo"))
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    settings = Settings()
    models = ModelManager(settings)
    transcriber = models.transcriber(question_asr(settings))
    results: dict[str, tuple[list[str], list[str], list[str]]] = {}
    turns = {"drafted": 0, "whole": 0}
    for number, (name, path, reference) in enumerate(clips(args.nemo, args.limit), 1):
        clip = load(path, 16000).samples
        text, drafted, whole = streamed(models, settings, clip)
        turns["drafted"] += drafted
        turns["whole"] += whole
        once = transcriber.transcribe(Audio(clip, 16000), "pl").text
        references, streamed_texts, whole_texts = results.setdefault(name, ([], [], []))
        references.append(reference)
        streamed_texts.append(text)
        whole_texts.append(once)
        if number % 50 == 0:
            print(f"{number} clips", flush=True)
    for name, (references, streamed_texts, whole_texts) in results.items():
        joined = " ".join(references)
        streamed_wer = wer(joined, " ".join(streamed_texts))
        whole_wer = wer(joined, " ".join(whole_texts))
        print(
            f"{name}: {len(references)} clips, streamed finals WER {streamed_wer:.4f}, "
            f"whole-utterance WER {whole_wer:.4f}, difference {streamed_wer - whole_wer:+.4f}"
        )
    print(f"turns whose final was the draft: {turns['drafted']}, decoded whole: {turns['whole']}")
    models.unload()


if __name__ == "__main__":
    main()
