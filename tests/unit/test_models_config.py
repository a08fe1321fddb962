"""Model catalog (joining split files, resolving names, paths and hub ids) and settings."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lbrxvoicepro import ConfigError, ModelNotFound, load_settings
from lbrxvoicepro.models import CATALOG, CatalogEntry, ModelCatalog, PackagedFile

pytestmark = pytest.mark.engines("vad")


def test_whisper_base_is_joined_once_and_verified(cache_dir: Path):
    catalog = ModelCatalog(cache_dir)
    path = catalog.resolve("whisper-base")
    model = path / "model.bin"
    assert model.stat().st_size == CATALOG["whisper-base"].size
    assert {p.name for p in path.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    before = model.stat().st_mtime_ns
    assert catalog.resolve("whisper-base") == path
    assert model.stat().st_mtime_ns == before
    assert not [p for p in catalog.models_dir.iterdir() if ".partial" in p.name]


def test_a_join_that_fails_verification_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    package = tmp_path / "fake_parts"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "a").write_bytes(b"abc")
    (package / "data" / "b").write_bytes(b"def")
    monkeypatch.syspath_prepend(str(tmp_path))
    parts = tuple(PackagedFile("fake_parts", f"data/{n}", "fake-parts") for n in "ab")
    good = hashlib.sha256(b"abcdef").hexdigest()
    entry = CatalogEntry("fake", "whisper", "test", parts[0], parts=parts, size=6, sha256=good)
    catalog = ModelCatalog(tmp_path / "cache")
    monkeypatch.setitem(CATALOG, "fake", entry)
    assert (catalog.resolve("fake") / "model.bin").read_bytes() == b"abcdef"
    broken = CatalogEntry("broken", "whisper", "test", parts[0], parts=parts, size=6, sha256="0")
    monkeypatch.setitem(CATALOG, "broken", broken)
    with pytest.raises(ModelNotFound, match="do not match"):
        catalog.resolve("broken")
    assert sorted(p.name for p in catalog.models_dir.iterdir()) == [
        ".broken.lock",
        ".fake.lock",
        "fake",
    ]


def test_paths_names_and_hub_ids_resolve_or_explain(tmp_path: Path, cache_dir: Path, monkeypatch):
    catalog = ModelCatalog(cache_dir)
    assert catalog.resolve("silero-vad", "vad").suffix == ".onnx"
    local = catalog.resolve("whisper-tiny.en")
    assert catalog.resolve(str(local)) == local
    with pytest.raises(ModelNotFound, match=r"no model\.bin"):
        catalog.resolve(str(tmp_path))
    with pytest.raises(ModelNotFound, match="not a known whisper model"):
        catalog.resolve("whisper-giant")
    with pytest.raises(ModelNotFound, match="vad model, not a whisper"):
        catalog.resolve("silero-vad")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="could not fetch from the model hub"):
        catalog.resolve("Systran/faster-whisper-small")


def test_models_list_reports_every_catalog_model(tmp_path: Path):
    """Every model's files are installed; those split across packages are joined into the
    cache on first use (a fresh cache here, whatever ran before)."""
    rows = {row.name: row for row in ModelCatalog(tmp_path).statuses()}
    assert set(rows) == set(CATALOG)
    assert {row.state for row in rows.values()} == {"ready", "joined on first use"}
    assert rows["whisper-base"].state == "joined on first use"


def test_settings_from_env_toml_and_overrides(tmp_path: Path, monkeypatch):
    config = tmp_path / "lbrx.toml"
    config.write_text('cache_dir = "/tmp/x"\n[asr]\nbeam_size = 2\nlanguage = "en"\n')
    monkeypatch.setenv("LBRX_ASR__BEAM_SIZE", "3")
    settings = load_settings(config)
    assert settings.asr.beam_size == 3
    assert settings.asr.language == "en"
    assert settings.cache_dir == Path("/tmp/x")
    assert load_settings(config, cache_dir=tmp_path).cache_dir == tmp_path
    monkeypatch.setenv("LBRX_ASR__BEAM_SIZE", "0")
    with pytest.raises(ConfigError, match="beam_size"):
        load_settings()
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")
    assert os.environ["LBRX_ASR__BEAM_SIZE"] == "0"


def test_the_model_manager_shares_models_until_unloaded(settings) -> None:
    from lbrxvoicepro.runtime import ModelManager

    manager = ModelManager(settings)
    vad = manager.vad()
    assert manager.vad() is vad
    manager.unload()
    assert manager.vad() is not vad


def test_a_model_manager_keeps_numpys_blas_off_the_inference_cores(settings) -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    from lbrxvoicepro.runtime import ModelManager

    threadpool_limits(2, user_api="blas")
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {2}
    ModelManager(settings)
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}


def test_a_server_model_manager_freezes_what_each_load_leaves_alive(settings) -> None:
    import gc

    from lbrxvoicepro.runtime import ModelManager

    gc.unfreeze()
    ModelManager(settings).vad()
    assert gc.get_freeze_count() == 0
    try:
        ModelManager(settings, freeze_after_load=True).vad()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_a_misspelt_setting_in_the_file_or_the_environment_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "lbrx.toml"
    config.write_text('modle = "x"\n[asr]\nbeam_size = 2\nlangauge = "en"\n')
    with pytest.raises(ConfigError) as typo:
        load_settings(config)
    assert "unknown setting(s): 'modle'; 'asr.langauge' (did you mean 'asr.language'?)" in str(
        typo.value
    )
    config.write_text("[asr]\nbeam_size = 2\n")
    monkeypatch.setenv("LBRX_DATASET__VALIDATION__MIN_SNR", "12")
    with pytest.raises(ConfigError, match="'LBRX_DATASET__VALIDATION__MIN_SNR' \\(did you mean"):
        load_settings(config)
    monkeypatch.delenv("LBRX_DATASET__VALIDATION__MIN_SNR")
    assert load_settings(config).asr.beam_size == 2
