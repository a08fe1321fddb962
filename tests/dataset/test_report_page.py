"""The validation report as a user opens it: Debian's chromium (Playwright) loads
``validation.html`` from the dataset folder; a full-page screenshot is saved beside it."""

from __future__ import annotations

from pathlib import Path

from lbrxvoicepro.dataset.report import chart, write_report
from lbrxvoicepro.dataset.validate import validate
from tests.browser import chromium
from tests.conftest import POLISH_CLIPS
from tests.dataset.conftest import make_builder

LOAD_FIRST_PLAYER = """() => new Promise((loaded, failed) => {
    const player = document.querySelector("audio");
    player.onloadedmetadata = () => loaded(player.duration);
    player.onerror = () => failed(new Error(`audio error ${player.error && player.error.code}`));
    player.preload = "metadata";
    player.load();
})"""


def test_the_report_shows_axes_thresholds_and_a_player_per_utterance(
    tmp_path: Path, settings, models
) -> None:
    builder = make_builder(tmp_path / "ds", settings, models)
    builder.ingest([POLISH_CLIPS[1], POLISH_CLIPS[4]], "anna")
    report = validate(builder.store, settings.dataset.validation)
    _, page_path = write_report(report, builder.store.root)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(page_path.as_uri())
        figures = page.locator("figure")
        assert figures.count() == len(report.metric_names) >= 8
        for index in range(figures.count()):
            text = figures.nth(index).text_content() or ""
            assert "utterances" in text, text  # the y axis is labelled, in counts
            assert sum(char.isdigit() for char in text) >= 4, text  # ticks carry numbers
        bounded = [name for name in report.metric_names if report.thresholds.get(name)]
        assert page.locator('figure [id^="threshold-"]').count() >= len(bounded) >= 8
        assert page.locator("audio").count() == report.total
        assert page.evaluate(LOAD_FIRST_PLAYER) > 0.5  # the player reads the stored audio
        screenshot = builder.store.root / "validation.png"
        page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 50_000


def test_equal_values_make_one_labelled_bar_not_an_invented_range() -> None:
    svg = chart("clipping_ratio", [0.0, 0.0, 0.0], {"max": 0.001})
    assert "all 3 equal to 0" in svg and "threshold-max" in svg
    assert "−0.5" not in svg and "-0.5" not in svg
