"""Settings, built once at the edge (CLI, server) and passed down explicitly.

Precedence: keyword arguments, then environment (``LBRX_...``, nested with ``__``, e.g.
``LBRX_ASR__BEAM_SIZE=1``), then an optional TOML file (``--config`` or ``LBRX_CONFIG_FILE``),
then the defaults below.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lbrxvoicepro.errors import ConfigError


class VadSettings(BaseModel):
    """Silero VAD and the utterance segmenter."""

    threshold: float = Field(0.5, ge=0.0, le=1.0, description="speech probability to open")
    min_speech_ms: int = Field(250, ge=0, description="shorter bursts are dropped")
    max_utterance_s: float = Field(30.0, gt=1.0, description="longer speech is split")
    padding_ms: int = Field(200, ge=0, description="kept before and after each utterance")
    max_pause_ms: int = Field(500, ge=32, description="a longer pause ends the utterance")


class AsrSettings(BaseModel):
    """Whisper decoding and the hallucination guards."""

    model: str = Field("whisper-base", description="catalog name, local path or hub id")
    language: str = Field("pl", description="ISO code, or 'auto' to detect")
    beam_size: int = Field(
        8, ge=1, le=16, description="beam width (8: 2% fewer Polish word errors than 5, ~7% slower)"
    )
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = Field("int8", description="CTranslate2 compute type")
    cpu_threads: int = Field(0, ge=0, description="0 lets CTranslate2 choose")
    word_timestamps: bool = True
    condition_on_previous_text: bool = Field(
        True, description="prompt each 30 s window with the text before it"
    )
    batch_size: int = Field(8, ge=1, description="clips per batch in batched mode")
    batch_segment_timestamps: bool = Field(
        False,
        description="batched mode: split each clip of up to 30 s into timed segments "
        "(subtitles without word timestamps need it; decoding is slower and, on real Polish "
        "speech, less accurate)",
    )
    vad_gate: bool = Field(True, description="decode only what Silero VAD calls speech")
    remote_url: str = Field(
        "",
        description="forward recognition to an ASR worker (serve --role asr) or a load balancer "
        "in front of several, e.g. http://asr:8123; empty: decode here",
    )
    gate_padding_s: float = Field(1.0, ge=0.0, description="context kept around speech")
    gate_min_gap_s: float = Field(2.0, ge=0.0, description="shorter silences are not cut out")
    min_window_s: float = Field(
        10.0,
        ge=1.0,
        le=30.0,
        description="shortest encoder window: the audio plus silence up to this (30 = always "
        "the full window; below 10 s clips of 2 s and more lose accuracy), except for short "
        "clips (asr.window_per_audio)",
    )
    window_per_audio: float = Field(
        4.0,
        ge=0.0,
        description="a short clip's encoder window is this many times its length (whole "
        "seconds, at least 4 s) where that is under asr.min_window_s: a 1 s clip decodes "
        "better and 2x cheaper in 4 s than in 10 s (0: always asr.min_window_s)",
    )
    max_tokens_per_second: float = Field(
        16.0,
        gt=0.0,
        description="a clip is given 16 tokens plus this many per second of its audio, of "
        "which CTranslate2 decodes at most half plus the prompt: a loop or an invented "
        "sentence stops there",
    )
    temperatures: tuple[float, ...] = Field(
        (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        min_length=1,
        description="decoding temperatures, tried in turn while a result fails the checks",
    )
    best_of: int = Field(2, ge=1, description="samples drawn at each fallback temperature")
    min_fallback_s: float = Field(
        5.0,
        ge=0.0,
        description="a shorter clip is decoded once at the first temperature: on 360 short "
        "read clips fallback changed no word but cost up to a quarter of the audio's length, "
        "and a short tail that fails the checks is noise the guards drop anyway",
    )
    decode_time_factor: float = Field(
        1.0,
        ge=0.0,
        description="seconds of decoding one input may take per second of its speech (counted "
        "as at least 10 s) before the rest of it is decoded once at the first temperature, "
        "without fallback: a busy machine or a hostile input cannot make one decode run on",
    )
    spelling_languages: tuple[str, ...] = Field(
        ("pl",),
        description="languages whose transcripts get each word that wordfreq's word list does "
        "not know put right: joined to its neighbour where that makes a known word (a rare "
        "word too), else "
        "replaced with the known word that sounds closest, then is fewest edits away, then "
        "is most common (Polish: 13–17% fewer word errors); empty: Whisper's words as written",
    )
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    max_repeats: int = Field(3, ge=1, description="a phrase repeated more times is a loop")
    min_script_ratio: float = Field(
        0.8, ge=0.0, le=1.0, description="share of letters in the language's script"
    )


class TtsSettings(BaseModel):
    """Speech synthesis."""

    voice: str = Field(
        "espeak:pl", description="backend:voice, e.g. espeak:pl, piper:en_US-joe-medium, csm:PATH"
    )
    remote_url: str = Field(
        "",
        description="forward synthesis to a TTS worker (serve --role tts) or a load balancer, "
        "e.g. http://tts:8135; empty: synthesize here",
    )


class ValidationSettings(BaseModel):
    """Thresholds an utterance must meet to be accepted into a dataset."""

    min_duration_s: float = 1.0
    max_duration_s: float = 30.0
    min_snr_db: float = 15.0
    max_clipping_ratio: float = 0.001
    min_loudness_lufs: float = -45.0
    max_loudness_lufs: float = -8.0
    max_silence_ratio: float = 0.6
    min_speaking_rate: float = 0.5
    max_speaking_rate: float = 6.0
    min_avg_logprob: float = -1.0
    max_no_speech_prob: float = 0.6
    max_compression_ratio: float = 2.4
    min_script_share: float = 0.8
    max_prompt_cer: float = Field(
        0.25,
        description="prompted takes (studio): character error rate of the ASR against the prompt",
    )


class DatasetSettings(BaseModel):
    """Where datasets live and how they are judged."""

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("lbrxvoicepro") / "dataset",
        description="the default dataset directory (--dataset overrides it)",
    )
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    files_per_batch: int = Field(
        8, ge=1, description="ingest: files transcribed together (each committed on its own)"
    )
    encryption_key: SecretStr = Field(
        SecretStr(""),
        description="32-byte key, base64 or hex: new datasets encrypt their audio at rest",
    )
    encryption_key_file: Path | None = Field(None, description="the key, from a file instead")
    segmenter: VadSettings = Field(
        default_factory=lambda: VadSettings(
            min_speech_ms=500, max_utterance_s=20.0, padding_ms=300, max_pause_ms=1000
        ),
        description="utterance cutting for datasets: sentence-sized pieces, not turns",
    )


class KbSettings(BaseModel):
    """Knowledge bases: where they live, how documents are cut and how retrieval ranks."""

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("lbrxvoicepro") / "kb",
        description="one SQLite file per knowledge base",
    )
    default: str = Field("default", description="the knowledge base used when none is named")
    store: Literal["sqlite", "postgres"] = "sqlite"
    postgres_url: str = Field("", description="libpq URI for store = 'postgres'")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2", description="catalog name or a sentence-transformers directory"
    )
    embedding_precision: Literal["int8", "fp32"] = Field(
        "int8", description="int8 is ~2x faster on CPU at almost the same ranking"
    )
    language: str = Field("polish", description="Snowball stemmer for BM25 terms")
    chunk_chars: int = Field(600, ge=100, description="longest chunk, in characters")
    overlap_chars: int = Field(150, ge=0, description="sentences repeated from the last chunk")
    max_file_mb: float = Field(25.0, gt=0, description="larger files are skipped, with a reason")
    top_k: int = Field(5, ge=1)
    candidates: int = Field(50, ge=1, description="taken from each ranking before fusion")
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    batch_window_ms: float = Field(
        0.0,
        ge=0,
        description="a query that finds a worker free waits this long for others to share its "
        "batch (0: served at once; under load, batches form from the queue anyway)",
    )
    max_batch: int = Field(
        32,
        ge=1,
        description="most queries in one batch; a backlog is served in batches this full (caps of "
        "16 or fewer fell behind at 1,000 q/s when the host was slow)",
    )
    search_workers: int = Field(
        0, ge=0, description="threads serving query batches, each on one core; 0 = one per core"
    )


class LlmSettings(BaseModel):
    """The language model that answers."""

    backend: Literal["llama-cpp", "openai"] = Field(
        "llama-cpp", description="embedded llama.cpp, or any OpenAI-compatible server"
    )
    model: str = Field(
        "gemma-3-270m", description="catalog name or .gguf path (llama-cpp); model id (openai)"
    )
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible server")
    api_key: str = Field("not-needed", description="sent as the bearer token to the server")
    context_tokens: int = Field(4096, ge=256, description="the model's context window")
    max_tokens: int = Field(256, ge=1, description="longest answer")
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    threads: int = Field(0, ge=0, description="llama.cpp threads; 0 uses every core")
    trim_vocabulary: bool = Field(
        True,
        description="llama.cpp runs a copy of the GGUF without the tokens of other scripts "
        "(made once, in cache_dir): text written in Polish and English characters reads and "
        "generates exactly as before, a third faster per token; turn off for other languages",
    )
    timeout_s: float = Field(
        120.0,
        gt=0,
        description="the server backend's HTTP timeout; embedded, the longest wait for the next "
        "token before its process is restarted",
    )
    grounding: bool = Field(
        True,
        description="answers from a knowledge base are checked against their passages and "
        "cited inline; one that states a number or name its passage does not hold is replaced "
        "by a quote of the passage sentence that best answers the question",
    )
    system_prompt: str = Field(
        "Jesteś pomocnym asystentem. Odpowiadaj krótko, po polsku, wyłącznie na podstawie "
        "podanych fragmentów, i po każdym fakcie podawaj numer źródła w nawiasach, np. [1]. "
        "Jeśli fragmenty nie zawierają odpowiedzi, powiedz, że nie wiesz.",
        description="Polish by default",
    )


class ServerSettings(BaseModel):
    """The HTTP and WebSocket server."""

    host: str = Field("127.0.0.1", description="bind address; auth is required off loopback")
    port: int = Field(8000, ge=1, le=65535)
    auth: bool = Field(True, description="require a JWT or an API key on every /v1 endpoint")
    jwt_secret: str = Field("", description="HS256 key for bearer tokens (LBRX_SERVER__JWT_SECRET)")
    jwt_issuer: str = "lbrxvoicepro"
    jwt_audience: str = "lbrxvoicepro"
    keys_file: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("lbrxvoicepro") / "api-keys.json",
        description="hashed API keys and their roles",
    )
    redis_url: str = Field(
        "", description="share rate limits and sessions between server processes"
    )
    trusted_proxies: str = Field(
        "",
        description="addresses of the proxies whose X-Forwarded-For is believed, comma "
        "separated (e.g. the HAProxy or nginx host); empty: none, the peer address counts",
    )
    rate_limit: str = Field("120/minute", description="per API key or token subject")
    ip_rate_limit: str = Field("600/minute", description="per client address")
    max_upload_mb: float = Field(25.0, gt=0, description="largest accepted request body")
    body_timeout_s: float = Field(
        30.0, gt=0, description="longest wait for the next piece of a request body (408)"
    )
    idle_timeout_s: float = Field(
        60.0, gt=0, description="a WebSocket that sends nothing this long is closed (1001)"
    )
    max_audio_s: float = Field(
        3600.0, gt=0, description="longest audio in one upload, read from its header (413)"
    )
    max_decoded_mb: float = Field(
        1024.0,
        gt=0,
        description="largest decoded size of one upload, duration × rate × channels × 4 bytes, "
        "checked before decoding (413): a small file of compressed silence can hold hours",
    )
    session_ttl_s: int = Field(3600, ge=60, description="idle conversations are forgotten")
    max_connections: int = Field(
        1000, ge=1, description="open connections the process serves at once; more get 503"
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="longest wait for a request's line and headers, from its first byte (or "
        "the connection's opening) to its last; slower clients get 408 and are closed",
    )
    max_connections_per_address: int = Field(
        64,
        ge=1,
        description="HTTP connections one client address may hold open at once; more get 503 "
        "(trusted proxies are not capped: their clients are behind them)",
    )
    max_streams_per_caller: int = Field(
        4, ge=1, description="WebSocket streams one key or token may have open at once (4429)"
    )
    max_stream_backlog_s: float = Field(
        60.0,
        gt=0,
        description="speech a transcription stream may have waiting for Whisper; a client "
        "that sends faster than the server transcribes is closed (1013) past it",
    )
    latency_budget_s: float = Field(
        3.0,
        gt=0,
        description="longest wait for recognition the server accepts: past it a new stream is "
        "refused (1013) and a file to transcribe gets 503; quality steps down before it",
    )
    decode_batch_size: int = Field(
        8, ge=1, description="streams' utterances decoded together in one batch"
    )
    adaptive_quality: bool = Field(
        True, description="under load, drop partials and then beam search before latency grows"
    )
    datasets_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("lbrxvoicepro") / "datasets",
        description="datasets made through /v1/datasets, one folder each",
    )
    voices: list[str] = Field(
        default_factory=lambda: ["espeak:pl", "espeak:en-us", "piper:en_US-joe-medium"],
        description="voices clients may ask for (besides tts.voice); never a path from a client",
    )


class ConversationSettings(BaseModel):
    """Voice conversation (``talk``, ``/v1/stream/converse``): ``LBRX_CONVERSATION__...``."""

    turn_model: str = Field(
        "smart-turn-v3.2",
        description="end-of-turn model (catalog name or .onnx path); empty: the pause alone "
        "(vad.max_pause_ms) ends a turn, as it does when the model is not installed",
    )
    turn_pause_ms: int = Field(
        200,
        ge=32,
        description="silence after which the end-of-turn model's 'done' ends the turn (a "
        "'not done' from an earlier ask is asked again here)",
    )
    turn_ask_ms: int = Field(
        50,
        ge=32,
        description="silence after which the end-of-turn model is first asked: early in the "
        "pause it runs while the cores are idle, before the draft is recognised, instead of "
        "beside it (which slowed both)",
    )
    draft_pause_ms: int = Field(
        100,
        ge=0,
        description="silence after which the question so far is recognised ahead of the end "
        "of the turn; if no more speech follows, that transcript is the turn's (0: off)",
    )
    partial_every_ms: int = Field(
        500,
        ge=0,
        description="while the user speaks, what they said so far is shown (and its passages "
        "read in) this often: greedy decoding, one at a time; 0: only at pauses",
    )
    beam_size: int = Field(
        5,
        ge=0,
        description="Whisper beam for questions: a reply waits for it (0: asr.beam_size)",
    )
    read_ahead: bool = Field(
        True,
        description="while the user speaks (or pauses, the turn still open), the passages "
        "found for the words so far are read into the LLM, so that at the end of the turn "
        "only the question is new to it; never while the question itself is recognised",
    )
    late_passages: int = Field(
        2,
        ge=0,
        description="of the passages the whole question finds that were not read in while "
        "the user spoke, only its best this many join the prompt (each costs the LLM ~0.1-0.15 "
        "s after the turn on two cores), and more only while it holds fewer than kb.top_k",
    )
    answer_ahead: bool = Field(
        True,
        description="when a pause's draft transcript is ready before the turn has ended, "
        "start answering it at once; the answer is heard only if the turn ends with no more "
        "speech, and is dropped if the user goes on",
    )
    first_clause: bool = Field(
        True,
        description="speak the answer's first clause as soon as it is written, instead of "
        "waiting for its first whole sentence",
    )
    turn_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="probability at which the model ends the turn"
    )
    max_turn_pause_ms: int = Field(
        1000,
        ge=32,
        description="with the model: a pause this long ends the turn even when the model "
        "said the speaker was not done",
    )

    min_interruption_s: float = Field(
        0.6,
        ge=0.0,
        description="speech over an answer pauses it at once; shorter speech than this "
        "('mhm', 'tak', a cough) lets it go on, longer stops it (0: any speech stops it)",
    )


class Settings(BaseSettings):
    """Everything configurable, built once at the edge and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="LBRX_", env_nested_delimiter="__", extra="ignore", toml_file=None
    )

    cache_dir: Path = Field(
        default_factory=lambda: platformdirs.user_cache_path("lbrxvoicepro"),
        description="assembled model files and other derived data",
    )
    asr: AsrSettings = Field(default_factory=AsrSettings)
    vad: VadSettings = Field(default_factory=VadSettings)
    tts: TtsSettings = Field(default_factory=TtsSettings)
    dataset: DatasetSettings = Field(default_factory=DatasetSettings)
    kb: KbSettings = Field(default_factory=KbSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Build the settings from overrides, environment and an optional TOML file; a setting
    name that does not exist (a typo) in either is an error, not silently ignored."""
    path = config_file or os.environ.get("LBRX_CONFIG_FILE")
    unknown = _unknown_settings(_environment_settings(), Settings, "LBRX_", "__")
    if unknown:
        raise ConfigError(f"unknown setting(s) in the environment: {'; '.join(unknown)}")
    try:
        if not path:
            return Settings(**overrides)  # type: ignore[arg-type]
        if not Path(path).is_file():
            raise ConfigError(f"{path}: config file not found")
        unknown = _unknown_settings(tomllib.loads(Path(path).read_text(encoding="utf-8")), Settings)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s): {'; '.join(unknown)}")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(toml_file=path)

        return FileSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(f"invalid settings: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error


def _environment_settings() -> dict[str, object]:
    """``LBRX_A__B=value`` variables as nested ``{"a": {"b": value}}``."""
    nested: dict[str, object] = {}
    for name, value in os.environ.items():
        if not name.startswith("LBRX_") or name == "LBRX_CONFIG_FILE":
            continue
        *sections, key = name[len("LBRX_") :].lower().split("__")
        level = nested
        for section in sections:
            inner = level.setdefault(section, {})
            if not isinstance(inner, dict):
                break
            level = inner
        else:
            level[key] = value
    return nested


def _unknown_settings(
    values: dict[str, object], model: type[BaseModel], prefix: str = "", separator: str = "."
) -> list[str]:
    """Names in ``values`` that no setting of ``model`` has, each with the nearest real one."""
    unknown = []
    for key, value in values.items():
        field = model.model_fields.get(key)
        shown = prefix + (key.upper() if separator == "__" else key)
        if field is None:
            near = difflib.get_close_matches(key, list(model.model_fields), n=1)
            hint = prefix + (near[0].upper() if separator == "__" else near[0]) if near else ""
            unknown.append(f"{shown!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
            continue
        section = field.annotation
        if isinstance(value, dict) and isinstance(section, type) and issubclass(section, BaseModel):
            unknown += _unknown_settings(value, section, shown + separator, separator)
    return unknown
