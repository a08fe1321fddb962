"""Dataset ingest benchmark: hours of audio ingested per hour of wall time.

lbrxvoicepro: ``lbrxvoicepro ingest FILES --speaker S`` (decode, Silero VAD, Whisper in shared
batches, quality metrics and validation, FLAC storage in the catalog). Baseline, in the same
run on the same files: a plain loop over raw faster-whisper (same model and decoding settings,
word timestamps), which only transcribes. Each runs as its own process, the way users run them,
model loading included; runs alternate and the median is kept.

    .venv/bin/python bench/ingest.py [--files 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lbrxvoicepro.audio import decode
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.models import ModelCatalog

ROOT = Path(__file__).resolve().parent.parent
POLISH = sorted((ROOT / "tests" / "data" / "pl").glob("*.wav"))
RAW_LOOP = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8")
for path in sys.argv[2:]:
    segments, _ = model.transcribe(path, language="pl", beam_size=5, word_timestamps=True)
    text = " ".join(s.text for s in segments)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lbrx-ingest-"))
    files = []
    for index in range(args.files):
        target = work / "in" / f"{index:03d}_{POLISH[index % len(POLISH)].name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(POLISH[index % len(POLISH)], target)
        files.append(target)
    hours = sum(decode(f).duration for f in files) / 3600
    env = {**os.environ, "LBRX_CACHE_DIR": str(work / "cache")}
    model = str(ModelCatalog(work / "cache").resolve("whisper-base"))

    times: dict[str, list[float]] = {"raw": [], "lbrx": []}
    utterances = 0
    for repeat in range(args.repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", RAW_LOOP, model, *map(str, files)], check=True, env=env
        )
        times["raw"].append(time.perf_counter() - started)
        dataset = work / f"dataset{repeat}"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "lbrxvoicepro",
                "ingest",
                str(work / "in"),
                "--speaker",
                "bench",
                "--dataset",
                str(dataset),
            ],
            check=True,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        times["lbrx"].append(time.perf_counter() - started)
        utterances = len(DatasetStore(dataset).utterances())

    raw, ours = statistics.median(times["raw"]), statistics.median(times["lbrx"])
    print(f"{len(files)} files, {hours * 60:.1f} min of audio; {utterances} utterances stored")
    print("| pipeline | wall s (median) | hours of audio per wall hour |")
    print("|---|---|---|")
    print(
        f"| raw faster-whisper loop (transcription only) | {raw:.1f} | {hours * 3600 / raw:.1f} |"
    )
    print(
        f"| lbrxvoicepro ingest (VAD + ASR + validation + storage) | {ours:.1f} | "
        f"{hours * 3600 / ours:.1f} |"
    )
    print(f"speed-up {raw / ours:.2f}x")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
