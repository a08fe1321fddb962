"""Dataset ingest benchmark: hours of audio ingested per hour of wall time.

lbrxvoicepro: ``lbrxvoicepro ingest FILES --speaker S`` (decode, Silero VAD, Whisper in shared
batches, quality metrics and validation, FLAC storage in the catalog). Baseline, in the same
run on the same files: a plain loop over raw faster-whisper (same model and decoding settings,
word timestamps), which only transcribes. Each runs as its own process, the way users run them,
model loading included; runs alternate and the median is kept.

    .venv/bin/python bench/ingest.py [--files 20] [--repeats 3]

With ``--ray``: the 360 read Polish clips of ``../shared/testdata/pl-nemo`` ingested by the
same command in one process and with ``--ray`` on a local Ray cluster already running (a head
node with this machine's CPUs, started by the benchmark, as users keep one running), runs
alternating, median kept; then, in process, how much of a Ray run the single writer (cutting,
metrics, judging, FLAC and catalog commits) is busy, which bounds what more machines can give.

    .venv/bin/python bench/ingest.py --ray [--repeats 2]
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
NEMO = ROOT.parent / "shared" / "testdata" / "pl-nemo"
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
    parser.add_argument("--ray", action="store_true", help="one process vs --ray (pl-nemo)")
    args = parser.parse_args()
    if args.ray:
        ray_main(args.repeats)
        return

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


def ingest_command(files: list[Path], dataset: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lbrxvoicepro", "ingest", *map(str, files), "--speaker", "bench",
            "--dataset", str(dataset), *extra]  # fmt: skip


class TimedRecognition:
    """Ray recognition, timing how long the writer waits for it: the rest is the writer's."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.waited = 0.0

    def recognize(self, paths, language):  # type: ignore[no-untyped-def]
        results = self.inner.recognize(paths, language)  # type: ignore[attr-defined]
        while True:
            started = time.perf_counter()
            try:
                item = next(results)
            except StopIteration:
                return
            finally:
                self.waited += time.perf_counter() - started
            yield item


def ray_main(repeats: int) -> None:
    import ray
    from ray.cluster_utils import Cluster

    from lbrxvoicepro.config import load_settings
    from lbrxvoicepro.dataset.builder import DatasetBuilder
    from lbrxvoicepro.dataset.distributed import RayRecognition, connect
    from lbrxvoicepro.runtime import ModelManager
    from lbrxvoicepro.types import Speaker

    files = sorted(NEMO.glob("*.wav"))
    hours = sum(decode(f).duration for f in files) / 3600
    work = Path(tempfile.mkdtemp(prefix="lbrx-ingest-ray-"))
    env = {**os.environ, "LBRX_CACHE_DIR": str(work / "cache")}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": os.cpu_count()})
    times: dict[str, list[float]] = {"one process": [], "ray": []}
    for repeat in range(repeats):
        for name, extra in (("one process", ()), ("ray", ("--ray", cluster.address))):
            started = time.perf_counter()
            subprocess.run(
                ingest_command(files, work / f"{name}{repeat}", *extra),
                check=True,
                env=env,
                stderr=subprocess.DEVNULL,
            )
            times[name].append(time.perf_counter() - started)
    one, ray_wall = statistics.median(times["one process"]), statistics.median(times["ray"])
    print(f"{len(files)} files, {hours * 60:.1f} min of audio, {os.cpu_count()} CPUs")
    print("| ingest | wall s (median) | hours of audio per wall hour |")
    print("|---|---|---|")
    for name, wall in (("one process", one), ("--ray (local cluster, 1 Whisper actor)", ray_wall)):
        print(f"| {name} | {wall:.1f} | {hours * 3600 / wall:.1f} |")
    print(f"Ray overhead: {(ray_wall / one - 1) * 100:+.1f}%")

    settings = load_settings(cache_dir=work / "cache")
    store = DatasetStore(work / "writer")
    store.add_speaker(Speaker("bench", "bench", "pl"))
    models = ModelManager(settings)
    builder = DatasetBuilder(store, models.transcriber(), models.vad(), settings)
    connect(cluster.address)
    timed = TimedRecognition(RayRecognition(settings, cluster.address))
    started = time.perf_counter()
    builder.ingest(files, "bench", recognition=timed)  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    writer = wall - timed.waited
    print(
        f"in process: {wall:.1f} s, the writer busy {writer:.1f} s ({writer / wall:.0%}): "
        f"{writer / len(files) * 1000:.0f} ms per file, at most "
        f"{hours * 3600 / writer:.0f} hours of audio per hour through one writer"
    )
    ray.shutdown()
    cluster.shutdown()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
