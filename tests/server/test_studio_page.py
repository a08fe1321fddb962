"""The /studio and /studio/review pages in real headless Chromium (Debian's, driven by
Playwright), the microphone faked from real read Polish speech (nEMO clips, one browser per
clip: each take replays its clip from the start). Prompts are the clips' texts. Screenshots of
both pages are saved under ``artifacts/studio/``."""

from __future__ import annotations

import os
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Page, Request

from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.crypto import cipher_for
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.dataset.studio import TakeRef
from tests.browser import chromium
from tests.conftest import NEMO
from tests.dataset.readers import read_csm, read_moshi
from tests.e2e.test_cli import CLI
from tests.llm.conftest import free_port
from tests.server.conftest import wait_for
from tests.server.test_studio_api import CLIPS, nemo_text

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "studio"
DATASET = "studio_page"
CAPTURED = "() => window.studio.recording && window.studio.stats.captured >= 4.0"
"""The take holds the clip and a second of silence after it."""


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "nemo.txt"
    path.write_text("\n".join(nemo_text(c) for c in CLIPS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def microphones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each clip as the fake microphone says it: half a second of silence, the sentence, then
    silence (it plays once from the start each time the page opens the microphone)."""
    folder = tmp_path_factory.mktemp("microphones")
    files = {}
    for name in CLIPS:
        samples, rate = sf.read(NEMO / name, dtype="int16")
        silence = np.zeros(rate // 2, np.int16)
        files[name] = folder / name
        sf.write(files[name], np.concatenate([silence, samples, *[silence] * 6]), rate)
    return files


@contextmanager
def studio_page(microphone: Path, address: str) -> Iterator[tuple[Page, list[bytes], list[str]]]:
    """The studio with this microphone: the page, the take bodies it sent, its script errors."""
    with chromium(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}%noloop",
    ) as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        sent: list[bytes] = []
        errors: list[str] = []

        def keep(request: Request) -> None:
            if "/takes?" in request.url and request.post_data_buffer:
                sent.append(request.post_data_buffer)

        page.on("request", keep)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://{address}/studio")
        yield page, sent, errors
        page.close()


def begin(page: Page, token: str, prompt_file: Path) -> None:
    page.fill("#token", token)
    page.fill("#dataset", DATASET)
    page.fill("#speaker", "ola")
    page.check("#consent")
    page.set_input_files("#prompt-file", str(prompt_file))
    page.click("#begin")
    page.locator("#reading").wait_for(state="visible", timeout=60_000)


def take(page: Page, key: str = " ") -> dict:  # type: ignore[type-arg]
    """Record with ``key``, stop once the clip and a second of silence after it were captured
    (as the page reports it), and wait for the server's verdict."""
    verdicts = page.evaluate("window.studio.stats.verdicts.length")
    page.keyboard.press(key)
    page.wait_for_function(CAPTURED, timeout=120_000)
    page.keyboard.press(" ")
    page.wait_for_function(
        f"() => window.studio.stats.verdicts.length > {verdicts} || $('error').textContent",
        timeout=180_000,
    )
    assert not page.locator("#error").text_content(), page.locator("#error").text_content()
    page.locator("#verdict").wait_for(state="visible", timeout=30_000)
    return page.evaluate("window.studio.stats.verdicts.at(-1)")  # type: ignore[no-any-return]


def number(page: Page) -> int:
    return int(page.locator("#number").text_content() or 0)


def test_a_speaker_records_reviews_and_exports_a_dataset_in_the_browser(
    live_server: str,
    tokens: dict[str, str],
    server_settings: Settings,
    microphones: dict[str, Path],
    prompt_file: Path,
    cache_dir: Path,
    tmp_path: Path,
) -> None:
    token = tokens["collector"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with studio_page(microphones[CLIPS[0]], live_server) as (page, sent, errors):
        begin(page, token, prompt_file)
        assert (number(page), page.locator("#total").text_content()) == (1, "3")
        assert page.locator("#prompt").text_content() == nemo_text(CLIPS[0])
        kept = take(page)
        assert kept["suggestion"] == "keep" and kept["metrics"]["prompt_cer"] < 0.25, kept
        assert "Keep" in (page.locator("#suggestion").text_content() or "")
        rate = page.evaluate("window.studio.stats.sampleRate")
        assert kept["sample_rate"] == rate >= 44100  # the device's own rate, not 16 kHz
        page.screenshot(path=str(ARTIFACTS / "recording.png"), full_page=True)
        # skip, back and next from the keyboard
        page.keyboard.press("s")
        assert number(page) == 2
        page.keyboard.press("b")
        assert number(page) == 1
        page.keyboard.press("ArrowRight")
        assert number(page) == 2
        wrong = take(page, "r")  # the first sentence read for the second prompt
        assert wrong["suggestion"] == "redo", wrong
        assert any("read differently from the prompt" in r for r in wrong["reasons"])
        assert "Redo" in (page.locator("#suggestion").text_content() or "")
        redone = take(page, "d")
        assert redone["suggestion"] == "redo" and redone["number"] == 2
        assert page.locator("#takes li").count() == 2
        assert errors == []
    assert len(sent) == 3

    store = DatasetStore(
        server_settings.server.datasets_dir / DATASET, cipher_for(server_settings.dataset)
    )
    try:
        stored = store.utterance(kept["id"])
        ref = TakeRef.of(stored)
        assert ref is not None
        recorded = store.read_take(ref.take_path)
        as_sent = np.frombuffer(sent[0], "<i2")
        assert recorded.sample_rate == rate
        assert np.array_equal(np.round(recorded.samples * 32768).astype(np.int16), as_sent)
    finally:
        store.close()

    for clip, prompt in ((CLIPS[1], 2), (CLIPS[2], 3)):  # a new page resumes where it stopped
        with studio_page(microphones[clip], live_server) as (page, _, errors):
            begin(page, token, prompt_file)
            assert number(page) == prompt
            assert take(page)["suggestion"] == "keep"
            assert errors == []

    with studio_page(microphones[CLIPS[0]], live_server) as (page, _, errors):
        page.goto(f"http://{live_server}/studio/review")
        page.fill("#token", token)
        page.fill("#dataset", DATASET)
        page.click("#load")
        page.wait_for_function("() => window.review.rows === 5", timeout=60_000)
        assert page.locator("#charts svg").count() == 4
        assert page.locator("tr.accepted").count() == 3
        page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        fixed = "Mój teść zawsze służy dobrą radą."
        last = page.locator("tbody tr").last
        last.locator("input").fill(fixed)
        for button, accepted in (("save text", 3), ("reject", 2), ("restore", 3)):
            loads = page.evaluate("window.review.loads")
            page.locator("tbody tr").last.get_by_role("button", name=button).click()
            page.wait_for_function(f"() => window.review.loads > {loads}", timeout=30_000)
            assert page.locator("tr.accepted").count() == accepted
            assert page.locator("tbody tr").last.locator("input").input_value() == fixed
        page.select_option("#format", "ljspeech")
        with page.expect_download(timeout=120_000) as download:
            page.click("#export")
        archive = zipfile.ZipFile(download.value.path())
        assert sum(n.endswith(".wav") for n in archive.namelist()) == 3
        assert "metadata.csv" in " ".join(archive.namelist())
        assert errors == []

    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_DATASET__ENCRYPTION_KEY": server_settings.dataset.encryption_key.get_secret_value(),
    }
    dataset = server_settings.server.datasets_dir / DATASET
    for export_format in ("moshi", "csm"):
        out = tmp_path / export_format
        done = subprocess.run(
            [
                *CLI,
                "convert",
                "--dataset",
                str(dataset),
                "--format",
                export_format,
                "--output",
                str(out),
                "--validation",
                "0",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    assert len(read_moshi(tmp_path / "moshi" / "train")) == 3
    turns = [turn["text"] for talk in read_csm(tmp_path / "csm" / "train") for turn in talk]
    assert len(turns) == 3 and "Mój teść zawsze służy dobrą radą." in turns  # fixed in review


def test_a_server_killed_between_takes_loses_nothing_and_the_page_carries_on(
    cache_dir: Path, microphones: dict[str, Path], prompt_file: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_SERVER__DATASETS_DIR": str(tmp_path / "datasets"),
    }
    command = [*CLI, "studio", "--port", str(port), "--no-open"]

    def start() -> subprocess.Popen[bytes]:
        server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        wait_for(f"http://127.0.0.1:{port}/healthz")
        return server

    server = start()
    try:
        with studio_page(microphones[CLIPS[0]], f"127.0.0.1:{port}") as (page, _, errors):
            begin(page, "", prompt_file)
            assert take(page)["suggestion"] == "keep"
            server.kill()
            server.wait(timeout=30)
            page.keyboard.press("Enter")
            verdicts = page.evaluate("window.studio.stats.verdicts.length")
            page.keyboard.press(" ")
            page.wait_for_function(CAPTURED, timeout=120_000)
            page.keyboard.press(" ")
            # the take waits on the page while nobody answers; the server comes back
            page.wait_for_function(
                "() => document.querySelector('#status').textContent.includes('unreachable')",
                timeout=60_000,
            )
            server = start()
            page.wait_for_function(
                f"() => window.studio.stats.verdicts.length > {verdicts}", timeout=180_000
            )
            late = page.evaluate("window.studio.stats.verdicts.at(-1)")
            assert late["number"] == 2 and number(page) == 2
            assert errors == []
    finally:
        server.kill()
        server.wait(timeout=30)
    store = DatasetStore(tmp_path / "datasets" / DATASET)
    try:
        takes = sorted((TakeRef.of(u).number, u.status) for u in store.utterances())  # type: ignore[union-attr]
        assert takes == [(1, "accepted"), (2, "rejected")]
        assert len(list((store.root / "takes").rglob("*.flac"))) == 2
    finally:
        store.close()
