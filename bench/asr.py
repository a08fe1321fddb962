"""ASR benchmark: lbrxvoicepro against raw faster-whisper, same model, settings and audio.

Part 1, one file at a time: for each real Polish clip (and the English clip), the median wall
time of raw ``WhisperModel.transcribe`` (segments consumed) and of ``VoicePipeline
.transcribe_sync`` (decode + Silero VAD gate + Whisper + guards), their ratio, and each WER.
Part 2, the command line: ``lbrxvoicepro transcribe FILE`` against a script that loads the same
model with faster-whisper and transcribes the same file, as processes, median of repeats.
Part 3, throughput: batched mode over N files against a plain loop over raw faster-whisper.

    .venv/bin/python bench/asr.py [--repeats 3] [--files 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from faster_whisper import WhisperModel

from lbrxvoicepro import VoicePipeline, load_settings
from lbrxvoicepro.audio import load
from lbrxvoicepro.text import wer

ROOT = Path(__file__).resolve().parent.parent
POLISH = sorted((ROOT / "tests" / "data" / "pl").glob("*.wav"))
BECKETT_TEXT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."
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


def beckett() -> Path:
    spec = importlib.util.find_spec("moonshine_onnx")
    assert spec is not None and spec.origin
    return Path(spec.origin).parent / "assets" / "beckett.wav"


class Bench:
    """The project and raw faster-whisper, on the same model files and settings."""

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.cache = Path(tempfile.mkdtemp(prefix="lbrx-bench-"))
        settings = load_settings(cache_dir=self.cache)
        self.pipeline = VoicePipeline(settings)
        self.asr = settings.asr
        self.model_path = str(self.pipeline.models.catalog.resolve(self.asr.model))
        self.raw = WhisperModel(self.model_path, device="cpu", compute_type=self.asr.compute_type)
        print(f"model {self.asr.model}, {self.asr.compute_type}, beam {self.asr.beam_size}\n")

    def raw_text(self, path: Path, language: str) -> str:
        segments, _ = self.raw.transcribe(
            str(path), language=language, beam_size=self.asr.beam_size, word_timestamps=True
        )
        return " ".join(s.text.strip() for s in segments)

    def ours_text(self, path: Path, language: str) -> str:
        return self.pipeline.transcribe_sync(path, language=language).text

    def single(self) -> None:
        clips = [(p, "pl", p.with_suffix(".txt").read_text(encoding="utf-8")) for p in POLISH]
        clips.append((beckett(), "en", BECKETT_TEXT))
        self.ours_text(POLISH[0], "pl")
        self.raw_text(POLISH[0], "pl")
        print("## One file at a time (in process, model loaded, median of repeats)")
        print("| file | raw s | lbrx s | ratio | raw WER | lbrx WER |")
        print("|---|---|---|---|---|---|")
        totals = {"raw": 0.0, "lbrx": 0.0}
        polish: dict[str, list[float]] = {"raw": [], "lbrx": []}
        for path, language, reference in clips:
            (raw_s, raw_out), (ours_s, ours_out) = paired_medians(
                self.repeats,
                lambda path=path, language=language: self.raw_text(path, language),
                lambda path=path, language=language: self.ours_text(path, language),
            )
            raw_wer, ours_wer = wer(reference, str(raw_out)), wer(reference, str(ours_out))
            if language == "pl":
                polish["raw"].append(raw_wer)
                polish["lbrx"].append(ours_wer)
            totals["raw"] += raw_s
            totals["lbrx"] += ours_s
            print(
                f"| {path.name} | {raw_s:.2f} | {ours_s:.2f} | {ours_s / raw_s:.3f} "
                f"| {raw_wer:.3f} | {ours_wer:.3f} |"
            )
        ratio = totals["lbrx"] / totals["raw"]
        print(f"| **total** | {totals['raw']:.2f} | {totals['lbrx']:.2f} | **{ratio:.3f}** | | |")
        print(
            f"\nPolish mean WER: raw {statistics.mean(polish['raw']):.4f}, "
            f"lbrx {statistics.mean(polish['lbrx']):.4f}\n"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--parts", default="single,cli,batch", help="any of single,cli,batch")
    args = parser.parse_args()
    bench = Bench(args.repeats)
    parts = args.parts.split(",")
    if "single" in parts:
        bench.single()
    if "cli" in parts:
        bench.command_line()
    if "batch" in parts:
        bench.throughput(args.files)


if __name__ == "__main__":
    main()
