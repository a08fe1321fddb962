"""ASR benchmark: lbrxvoicepro against raw faster-whisper, same model files and audio.

Part 1, one file at a time, per set (read Polish: the 360 pl-nemo clips; spontaneous Polish:
tests/data/pl; English: beckett): corpus WER of raw ``WhisperModel.transcribe`` at the
library's defaults (beam 5, word timestamps, language forced) and of ``VoicePipeline
.transcribe_sync`` (decode + Silero VAD gate + bounded clip-by-clip Whisper + guards), the
relative change, total time, and the slowest clip's time as a multiple of its duration.
Part 2, the command line: ``lbrxvoicepro transcribe FILE`` against a script that loads the same
model with faster-whisper and transcribes the same file, as processes, median of repeats.
Part 3, throughput: batched mode over N files against a plain loop over raw faster-whisper.

    .venv/bin/python bench/asr.py [--repeats 3] [--nemo-repeats 1] [--files 20]
        [--nemo-half all|even|odd]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from faster_whisper import WhisperModel
from speech_sets import Clip, corpus_wer, load_sets

from lbrxvoicepro import VoicePipeline, load_settings
from lbrxvoicepro.audio import load
from lbrxvoicepro.models import ModelCatalog
from lbrxvoicepro.text import wer
from lbrxvoicepro.text.spelling import Speller
from lbrxvoicepro.types import Audio

ROOT = Path(__file__).resolve().parent.parent
POLISH = sorted((ROOT / "tests" / "data" / "pl").glob("*.wav"))
RAW_BEAM = 5
"""faster-whisper's own default: the baseline is the library as a user calls it."""
TARGET_FACTOR = 0.2
"""No clip should take longer than this multiple of its duration to transcribe."""
RAW_SCRIPT = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8")
segments, _ = model.transcribe(sys.argv[2], language="pl", beam_size=5, word_timestamps=True)
print(" ".join(s.text.strip() for s in segments))
"""


def median_time(repeats: int, function, *args, **kwargs) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def paired_medians(repeats: int, *functions) -> list[tuple[float, object]]:
    """Run the functions in turn, ``repeats`` rounds, so drift on a shared machine hits all."""
    times: list[list[float]] = [[] for _ in functions]
    results: list[object] = [None] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            results[index] = function()
            times[index].append(time.perf_counter() - started)
    return [(statistics.median(t), r) for t, r in zip(times, results, strict=True)]


class Bench:
    """The project and raw faster-whisper, on the same model files and settings."""

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.cache = Path(tempfile.mkdtemp(prefix="lbrx-bench-"))
        settings = load_settings(cache_dir=self.cache)
        self.pipeline = VoicePipeline(settings)
        self.asr = settings.asr
        self.model_path = str(self.pipeline.models.catalog.resolve(self.asr.model))
        # Built off the main thread, as the project builds its own: a model built on the main
        # thread makes every model in the process decode ~1.5x slower (see the notes below).
        with ThreadPoolExecutor(max_workers=1) as pool:
            self.raw = pool.submit(
                WhisperModel, self.model_path, device="cpu", compute_type=self.asr.compute_type
            ).result()
        print(
            f"model {self.asr.model}, {self.asr.compute_type}; project beam {self.asr.beam_size}, "
            f"raw faster-whisper at its defaults (beam {RAW_BEAM})\n"
        )

    def raw_text(self, path: Path, language: str) -> str:
        segments, _ = self.raw.transcribe(
            str(path), language=language, beam_size=RAW_BEAM, word_timestamps=True
        )
        return " ".join(s.text.strip() for s in segments)

    def single(self, nemo_half: str, nemo_repeats: int) -> None:
        """Every clip of every set, one file at a time: raw and project each in a process of
        its own (two CTranslate2 models in one process slow each other down)."""
        sets = load_sets(nemo_half)
        decoded = {
            side: json.loads(
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--side",
                        side,
                        "--nemo-half",
                        nemo_half,
                        "--repeats",
                        str(self.repeats),
                        "--nemo-repeats",
                        str(nemo_repeats),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for side in ("raw", "lbrx")
        }
        print(f"## One file at a time (models loaded; pl-nemo: {nemo_half})")
        print("| set | clips | raw WER | lbrx WER | change | raw s | lbrx s | raw max | lbrx max |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, clips in sets.items():
            errors, totals, slowest = {}, {}, {}
            for side in ("raw", "lbrx"):
                rows = decoded[side][name]
                errors[side] = corpus_wer(clips, [text for _, _, text in rows])
                totals[side] = sum(seconds for _, seconds, _ in rows)
                factors = [
                    (seconds / c.duration, c.name)
                    for (_, seconds, _), c in zip(rows, clips, strict=True)
                ]
                factor, clip = max(factors)
                over = sum(f > TARGET_FACTOR for f, _ in factors)
                slowest[side] = f"{factor:.2f}x ({clip}; {over} over {TARGET_FACTOR}x)"
            raw, ours = errors["raw"], errors["lbrx"]
            change = f"{(ours / raw - 1) * 100:+.1f}%" if raw else "="
            print(
                f"| {name} | {len(clips)} | {raw:.4f} | {ours:.4f} | {change} "
                f"| {totals['raw']:.1f} | {totals['lbrx']:.1f} "
                f"| {slowest['raw']} | {slowest['lbrx']} |",
                flush=True,
            )
        print(
            "\nWER: word errors over all reference words (case and punctuation ignored, fillers "
            "such as 'yyy' removed on both sides); max: the slowest clip's decoding time as "
            f"a multiple of its duration, and how many clips took over {TARGET_FACTOR}x "
            f"(median of repeats; pl-nemo: of {nemo_repeats}; the "
            "project's spelling cache emptied before each decode).\n"
        )

    def command_line(self) -> None:
        print("## Command line (process start, imports, model load, one file; median)")
        env = {**os.environ, "LBRX_CACHE_DIR": str(self.cache)}
        print("| file | raw script s | lbrxvoicepro transcribe s | ratio |")
        print("|---|---|---|---|")
        for target in (str(POLISH[0]), str(POLISH[2])):
            commands = {
                "raw": [sys.executable, "-c", RAW_SCRIPT, self.model_path, target],
                "lbrx": [sys.executable, "-m", "lbrxvoicepro", "transcribe", target],
            }
            (raw_s, _), (ours_s, _) = paired_medians(
                self.repeats,
                *(
                    lambda command=command: subprocess.run(
                        command, env=env, check=True, capture_output=True
                    )
                    for command in commands.values()
                ),
            )
            print(f"| {Path(target).name} | {raw_s:.2f} | {ours_s:.2f} | {ours_s / raw_s:.3f} |")
        print()

    def throughput(self, count: int) -> None:
        print(f"## Throughput over {count} files (batched mode vs a plain raw loop)")
        files = [POLISH[i % len(POLISH)] for i in range(count)]
        references = [p.with_suffix(".txt").read_text(encoding="utf-8") for p in files]
        audio_seconds = sum(load(p).duration for p in files)
        loop_s, loop_out = median_time(1, lambda: [self.raw_text(p, "pl") for p in files])
        batch_s, batch_out = median_time(1, self.pipeline.transcribe_batch_sync, files)
        loop_wer = statistics.mean(wer(r, t) for r, t in zip(references, loop_out, strict=True))
        batch_wer = statistics.mean(
            wer(r, t.text) for r, t in zip(references, batch_out, strict=True)
        )
        print(f"{audio_seconds:.0f} s of audio in {len(files)} files")
        print(
            f"raw loop {loop_s:.1f} s ({audio_seconds / loop_s:.1f}x real time), WER {loop_wer:.4f}"
        )
        print(
            f"lbrx batched {batch_s:.1f} s ({audio_seconds / batch_s:.1f}x real time), "
            f"WER {batch_wer:.4f}"
        )
        print(f"speed-up {loop_s / batch_s:.2f}x")


def decode_side(side: str, nemo_half: str, repeats: int, nemo_repeats: int) -> None:
    """One side of part 1, in this process alone: {set: [[clip, seconds, text], ...]} as JSON."""
    settings = load_settings()
    if side == "raw":
        path = str(ModelCatalog(settings.cache_dir).resolve(settings.asr.model))
        with ThreadPoolExecutor(max_workers=1) as pool:
            model = pool.submit(
                WhisperModel, path, device="cpu", compute_type=settings.asr.compute_type
            ).result()

        def decode(clip: Clip) -> str:
            segments, _ = model.transcribe(
                clip.samples, language=clip.language, beam_size=RAW_BEAM, word_timestamps=True
            )
            return " ".join(s.text.strip() for s in segments)
    else:
        pipeline = VoicePipeline(settings)

        def decode(clip: Clip) -> str:
            Speller.word.cache_clear()  # each repeat looks its words up as the first one did
            return pipeline.transcribe_sync(Audio(clip.samples, 16000), clip.language).text

    sets = load_sets(nemo_half)
    decode(sets["pl-spontaneous"][0])
    results = {}
    for name, clips in sets.items():
        rows = []
        for clip in clips:
            ((seconds, text),) = paired_medians(
                nemo_repeats if name == "pl-nemo" else repeats, lambda clip=clip: decode(clip)
            )
            rows.append([clip.name, seconds, text])
        results[name] = rows
    print(json.dumps(results, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--nemo-repeats", type=int, default=1, help="timings of each pl-nemo clip (median)"
    )
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--parts", default="single,cli,batch", help="any of single,cli,batch")
    parser.add_argument("--nemo-half", choices=("even", "odd", "all"), default="all")
    parser.add_argument("--side", choices=("raw", "lbrx"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        decode_side(args.side, args.nemo_half, args.repeats, args.nemo_repeats)
        return
    bench = Bench(args.repeats)
    parts = args.parts.split(",")
    if "single" in parts:
        bench.single(args.nemo_half, args.nemo_repeats)
    if "cli" in parts:
        bench.command_line()
    if "batch" in parts:
        bench.throughput(args.files)


if __name__ == "__main__":
    main()
