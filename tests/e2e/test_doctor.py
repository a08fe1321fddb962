"""``lbrxvoicepro doctor``: a real inference per engine, each in a child process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import psutil

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.runtime.health import CHECKS, run_checks
from tests.e2e.test_cli import CLI


def doctor(cache_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "doctor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LBRX_CACHE_DIR": str(cache_dir), **env},
        timeout=900,
    )


def test_every_engine_works_and_reports_its_version(cache_dir: Path) -> None:
    result = doctor(cache_dir, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [c.name for c in CHECKS]
    for row in rows:
        assert row["ok"] and row["version"] and row["seconds"] > 0, row
    table = doctor(cache_dir, "--check", "espeak")
    assert table.returncode == 0 and "eSpeak NG speaks Polish" in table.stdout
    assert "espeakng-loader" in table.stdout and "ok" in table.stdout


def test_a_removed_model_file_fails_with_the_fix_and_exit_1(
    cache_dir: Path, tmp_path: Path, models: ModelManager
) -> None:
    broken = tmp_path / "whisper-base"
    shutil.copytree(models.catalog.resolve("whisper-base"), broken)
    (broken / "model.bin").unlink()
    result = doctor(cache_dir, "--json", "--check", "whisper", "--check", "vad",
                    LBRX_ASR__MODEL=str(broken))  # fmt: skip
    assert result.returncode == 1
    whisper, vad = json.loads(result.stdout)
    assert not whisper["ok"] and "no model.bin inside" in whisper["detail"]
    assert "reinstall the package" in whisper["fix"]
    assert vad["ok"]


def test_an_unknown_check_is_a_usage_error(cache_dir: Path) -> None:
    result = doctor(cache_dir, "--check", "whisperr")
    assert result.returncode == 2 and "unknown check whisperr" in result.stderr


def test_a_crashing_engine_is_reported_and_the_other_checks_still_run(settings: Settings) -> None:
    """The llm check's process is killed with SIGSEGV, as a bad llama.cpp build would die."""
    results = []
    running = threading.Thread(
        target=lambda: results.extend(run_checks(settings, ["llm", "espeak"], parallel=2))
    )
    running.start()
    killed = False
    while running.is_alive() and not killed:
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):  # a child that has just ended
                if child.cmdline()[-2:] == ["lbrxvoicepro.runtime.health", "llm"]:
                    child.send_signal(signal.SIGSEGV)
                    killed = True
    running.join()
    espeak, llm = results  # in catalog order
    assert killed and llm.crashed and not llm.ok
    assert llm.detail.startswith(f"llama.cpp {llm.version} crashed (SIGSEGV)")
    assert espeak.ok and not espeak.crashed
