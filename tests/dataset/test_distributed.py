"""``ingest --ray`` on a real local Ray cluster (a head and a worker node, separate processes)
over real read Polish speech (nEMO clips, read from ../shared/testdata): the catalog equals a
single-process ingest of the same files, and a worker or the driver killed mid-job, followed by
a rerun, leaves every utterance exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import NEMO
from tests.e2e.test_cli import CLI

CLIPS = sorted(NEMO.glob("*.wav"))[:24]
"""Three groups of eight (``dataset.files_per_batch``): a kill lands while work remains."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from ray.cluster_utils import Cluster

    ray_cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    ray_cluster.add_node(num_cpus=1)
    ray_cluster.wait_for_nodes()
    yield ray_cluster.address
    ray_cluster.shutdown()


def ingest(dataset: Path, cache_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "ingest", *map(str, CLIPS), "--speaker", "nemo", "--dataset", str(dataset), *extra],
        env={**os.environ, "LBRX_CACHE_DIR": str(cache_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(job: subprocess.Popen[str]) -> tuple[int, str]:
    _, errors = job.communicate(timeout=900)
    return job.returncode, errors


Catalog = list[tuple[str, float, str, dict[str, float]]]


def catalog(dataset: Path) -> Catalog:
    """Every utterance: (source file, start, text, metrics), read-only beside a running job."""
    with sqlite3.connect(f"file:{dataset / 'catalog.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT source, source_start, text, metrics FROM utterances").fetchall()
    return sorted((Path(s).name, round(t, 3), x, json.loads(m)) for s, t, x, m in rows)


def files_done(dataset: Path) -> int:
    if not (dataset / "catalog.sqlite").is_file():
        return 0
    with sqlite3.connect(f"file:{dataset / 'catalog.sqlite'}?mode=ro", uri=True) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM sources WHERE status='done'").fetchone()[0])
        except sqlite3.OperationalError:  # the catalog is still being created
            return 0


def wait_until_some_done(dataset: Path, job: subprocess.Popen[str]) -> None:
    """Until a file is committed (observed in the catalog), while work remains."""
    deadline = time.monotonic() + 600
    while files_done(dataset) == 0:
        assert job.poll() is None, job.communicate()[1]
        assert time.monotonic() < deadline, "no file was committed"
        time.sleep(0.2)
    assert files_done(dataset) < len(CLIPS), "the job ended before it could be interrupted"


def ray_job_under_way(dataset: Path, cache_dir: Path, cluster: str) -> subprocess.Popen[str]:
    """An ``ingest --ray`` that has committed some files and not all."""
    job = ingest(dataset, cache_dir, "--ray", cluster)
    wait_until_some_done(dataset, job)
    return job


def recognizer_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any("_Recognizer" in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


def same_catalog(got: Catalog, expected: Catalog) -> None:
    assert [row[:3] for row in got] == [row[:3] for row in expected]
    for (*_, metrics), (*_, reference) in zip(got, expected, strict=True):
        assert metrics.keys() == reference.keys()
        for name, value in metrics.items():
            assert value == pytest.approx(reference[name], rel=1e-4, abs=1e-6), name


@pytest.fixture(scope="module")
def single_process(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Catalog:
    dataset = tmp_path_factory.mktemp("single") / "dataset"
    code, errors = finished(ingest(dataset, cache_dir))
    assert code == 0, errors
    rows = catalog(dataset)
    assert {row[0] for row in rows} == {clip.name for clip in CLIPS}
    return rows


def test_ray_ingest_equals_one_process_and_survives_a_killed_worker(
    cluster: str, single_process: Catalog, cache_dir: Path, tmp_path: Path
) -> None:
    dataset = tmp_path / "dataset"
    job = ray_job_under_way(dataset, cache_dir, cluster)
    workers = recognizer_processes()
    assert workers, "no Whisper actor process found"
    for worker in workers:
        worker.send_signal(signal.SIGKILL)
    finished(job)  # Ray restarts the actor and retries; any file it could not finish is failed
    code, errors = finished(ingest(dataset, cache_dir, "--ray", cluster))
    assert code == 0, errors
    same_catalog(catalog(dataset), single_process)


def test_a_driver_killed_mid_job_then_rerun_keeps_every_utterance_once(
    cluster: str, single_process: Catalog, cache_dir: Path, tmp_path: Path
) -> None:
    dataset = tmp_path / "dataset"
    job = ray_job_under_way(dataset, cache_dir, cluster)
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=60)
    code, errors = finished(ingest(dataset, cache_dir, "--ray", cluster))
    assert code == 0, errors
    skipped = re.search(r"(\d+) already done", errors)
    assert skipped and 0 < int(skipped[1]) < len(CLIPS), errors  # the rerun went on
    same_catalog(catalog(dataset), single_process)


def test_without_ray_nothing_imports_it() -> None:
    probe = (
        "import sys; from lbrxvoicepro.cli.app import app; "
        "from lbrxvoicepro.dataset import builder, studio; print('ray' in sys.modules)"
    )
    found = subprocess.run([*CLI[:1], "-c", probe], capture_output=True, text=True, timeout=120)
    assert found.stdout.strip() == "False", found.stderr
