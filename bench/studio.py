"""The studio's verdict: from the end of a take to the page's answer, against raw ASR.

Takes are real read Polish sentences (nEMO clips from ``../shared/testdata/pl-nemo``, several
speakers), each with 0.5 s of silence before and 1.5 s after, as 16-bit PCM at the clip's own
rate, sent to ``POST /v1/datasets/{name}/takes`` of the real app (in process, on a socketless
ASGI client): the take is stored (FLAC, encrypted), trimmed by Silero VAD, transcribed,
measured, judged and its utterance stored before the answer. The baseline, on the same takes in
the same run: raw faster-whisper (``WhisperModel.transcribe`` on the same model files, the
configured beam, language forced, word timestamps) on the take resampled to 16 kHz, the least
any verdict with an ASR check costs.

    .venv/bin/python bench/studio.py [--takes 24] [--nemo ../shared/testdata/pl-nemo]
"""

from __future__ import annotations

import argparse
import base64
import csv
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
from fastapi.testclient import TestClient
from faster_whisper import WhisperModel
from pydantic import SecretStr

from lbrxvoicepro.audio import resample
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server import create_app
from lbrxvoicepro.types import Audio


def takes(nemo: Path, count: int) -> list[tuple[str, bytes, int]]:
    """(sentence, PCM16 bytes, rate): ``count`` clips spread over the speakers."""
    with open(nemo / "MANIFEST.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    chosen = rows[:: max(1, len(rows) // count)][:count]
    found = []
    for row in chosen:
        samples, rate = sf.read(nemo / row["file"], dtype="int16")
        pad = np.zeros(rate // 2, np.int16)
        body = np.concatenate([pad, samples, pad, pad, pad]).astype("<i2").tobytes()
        found.append((row["text"], body, rate))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takes", type=int, default=24)
    parser.add_argument("--nemo", type=Path, default=Path("../shared/testdata/pl-nemo"))
    args = parser.parse_args()
    spoken = takes(args.nemo, args.takes)
    with tempfile.TemporaryDirectory() as folder:
        base = Settings()
        settings = base.model_copy(
            update={
                "server": base.server.model_copy(
                    update={"auth": False, "datasets_dir": Path(folder) / "datasets"}
                ),
                "dataset": base.dataset.model_copy(
                    update={"encryption_key": SecretStr(base64.b64encode(bytes(32)).decode())}
                ),
            }
        )
        models = ModelManager(settings)
        client = TestClient(create_app(settings, models))
        client.post("/v1/datasets/bench")
        client.post("/v1/datasets/bench/speakers", json={"id": "reader", "consent": True})
        prompts = "\n".join(text for text, _, _ in spoken)
        client.put(
            "/v1/datasets/bench/prompts/nemo",
            content=prompts.encode(),
            headers={"Content-Type": "text/plain"},
        )
        asr = settings.asr
        path = str(models.catalog.resolve(asr.model))
        # built off the main thread, as the project builds its own (see bench/asr.py)
        with ThreadPoolExecutor(max_workers=1) as pool:
            raw_model = pool.submit(
                WhisperModel, path, device="cpu", compute_type=asr.compute_type
            ).result()
        studio, raw, kept = [], [], 0
        for number, (_, body, rate) in enumerate([spoken[0], *spoken], start=0):
            audio = Audio(np.frombuffer(body, "<i2").astype(np.float32) / 32768, rate)
            start = time.perf_counter()
            answer = client.post(
                "/v1/datasets/bench/takes",
                params={
                    "speaker": "reader",
                    "prompts": "nemo",
                    "number": max(number, 1),
                    "sample_rate": rate,
                },
                content=body,
                headers={"Content-Type": "application/octet-stream"},
            )
            elapsed = time.perf_counter() - start
            answer.raise_for_status()
            start = time.perf_counter()
            segments, _ = raw_model.transcribe(
                resample(audio, 16000).samples,
                language="pl",
                beam_size=asr.beam_size,
                word_timestamps=True,
            )
            list(segments)
            baseline = time.perf_counter() - start
            if number == 0:
                continue  # warm-up: models loaded
            studio.append(elapsed)
            raw.append(baseline)
            kept += answer.json()["suggestion"] == "keep"
        studio_median, raw_median = statistics.median(studio), statistics.median(raw)
        seconds = statistics.median(len(body) / 2 / rate for _, body, rate in spoken)
        print(f"{len(studio)} takes (median {seconds:.2f} s each), {kept} kept")
        print(
            f"verdict (store, VAD, ASR, metrics, judge, store): median {studio_median:.2f} s, "
            f"p90 {np.percentile(studio, 90):.2f} s"
        )
        print(f"raw faster-whisper on the same take: median {raw_median:.2f} s")
        print(f"verdict / raw ASR: {studio_median / raw_median:.2f}x")
        models.unload()


if __name__ == "__main__":
    main()
