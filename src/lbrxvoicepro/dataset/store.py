"""The dataset store: one directory, a transactional SQLite catalog (WAL) and its audio files.

An utterance is added in two steps that a crash cannot leave half done: its audio is written to
a temporary file, fsynced and renamed into ``audio/``, then its row is committed. Opening the
store as its only user (no other process or thread has it open) reconciles the two: an audio
file without a committed row (a crash between the steps) is removed, so neither a half-written
entry nor an orphan file survives, and every committed utterance keeps its audio; a store
opened beside a running job never touches that job's files.
"""

from __future__ import annotations

import dataclasses
import fcntl
import io
import json
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lbrxvoicepro.audio import decode, encode
from lbrxvoicepro.dataset.crypto import AudioCipher
from lbrxvoicepro.dataset.rows import from_row, now, to_row, words_json
from lbrxvoicepro.errors import LbrxError
from lbrxvoicepro.text.spoken import spoken_form
from lbrxvoicepro.types import Audio, Speaker, Utterance

SCHEMA = """
CREATE TABLE IF NOT EXISTS speakers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, language TEXT NOT NULL,
    consent_given INTEGER NOT NULL, consent_at TEXT NOT NULL, consent_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, speaker_id TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', utterances INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS utterances (
    id TEXT PRIMARY KEY, speaker_id TEXT NOT NULL REFERENCES speakers(id),
    audio_path TEXT NOT NULL UNIQUE, duration REAL NOT NULL, sample_rate INTEGER NOT NULL,
    text TEXT NOT NULL, words TEXT NOT NULL, language TEXT NOT NULL,
    source TEXT NOT NULL, source_start REAL NOT NULL, source_end REAL NOT NULL,
    avg_logprob REAL NOT NULL, no_speech_prob REAL NOT NULL, compression_ratio REAL NOT NULL,
    status TEXT NOT NULL, reasons TEXT NOT NULL, metrics TEXT NOT NULL, created_at TEXT NOT NULL,
    spoken_text TEXT NOT NULL DEFAULT '', spoken_words TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS utterances_by_speaker ON utterances(speaker_id);
"""
AUDIO_DIR = "audio"
TAKES_DIR = "takes"
"""Studio takes as recorded, whole (utterances hold their trimmed speech)."""
SPEAKER_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,63}\Z")
"""A speaker id names a folder under ``audio/``: never ``..``, a separator or a newline."""
LOCK_FILE = ".lock"
CATALOG = "catalog.sqlite"
META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


@dataclass
class SpeakerStats:
    speaker_id: str
    accepted: int = 0
    rejected: int = 0
    accepted_seconds: float = 0.0
    rejected_seconds: float = 0.0


class DatasetError(LbrxError):
    """The dataset directory or catalog cannot be used as asked."""


class DatasetStore:
    """Catalog and audio of one dataset; with ``cipher``, audio is encrypted at rest."""

    def __init__(self, root: Path, cipher: AudioCipher | None = None) -> None:
        self.root = Path(root)
        self.cipher = cipher
        # Private to the owner: the catalog, the lock and audio (0600), its folders (0700).
        # Exports, by contrast, follow the user's umask: training jobs read them.
        _private_folder(self.root / AUDIO_DIR)
        os.chmod(self.root, 0o700)
        for name in (CATALOG, LOCK_FILE):
            os.close(os.open(self.root / name, os.O_CREAT | os.O_RDWR, 0o600))
        self._db = sqlite3.connect(
            self.root / CATALOG, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._db.execute(META)
        self._add_spoken_form()
        self._check_key()
        # Tidying up after a crash is safe only when nobody else has the store open (in this
        # process or another): a running ingest's half-written file looks like an orphan.
        self._lock = open(self.root / LOCK_FILE, "a+b")  # noqa: SIM115 (held until close)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._lock, fcntl.LOCK_SH)
        else:
            self.reconcile()
            fcntl.flock(self._lock, fcntl.LOCK_SH)

    def _check_key(self) -> None:
        """Refuse a missing or wrong key before anything is read or written."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'key_fingerprint'").fetchone()
        if row is not None:
            if self.cipher is None:
                raise DatasetError(
                    f"{self.root} is encrypted at rest: set LBRX_DATASET__ENCRYPTION_KEY or "
                    "dataset.encryption_key_file"
                )
            if row["value"] != self.cipher.fingerprint:
                raise DatasetError(f"{self.root}: wrong encryption key for this dataset")
        elif self.cipher is not None:
            if self._db.execute("SELECT 1 FROM utterances LIMIT 1").fetchone():
                raise DatasetError(
                    f"{self.root} holds unencrypted audio; use a new dataset for encryption"
                )
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO meta VALUES ('key_fingerprint', ?)", (self.cipher.fingerprint,)
                )

    def _add_spoken_form(self) -> None:
        """Catalogs from before spoken forms were stored get the columns, filled from the
        written text and words by the same normalizer new utterances use."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(utterances)")}
        if "spoken_text" in columns:
            return
        with self._transaction() as db:
            columns = {row["name"] for row in db.execute("PRAGMA table_info(utterances)")}
            if "spoken_text" in columns:
                return
            db.execute("ALTER TABLE utterances ADD COLUMN spoken_text TEXT NOT NULL DEFAULT ''")
            db.execute("ALTER TABLE utterances ADD COLUMN spoken_words TEXT NOT NULL DEFAULT '[]'")
            for row in db.execute("SELECT * FROM utterances").fetchall():
                old = from_row(row)
                spoken, words = spoken_form(old.text, old.words, old.language)
                db.execute(
                    "UPDATE utterances SET spoken_text=?, spoken_words=? WHERE id=?",
                    (spoken, words_json(words), old.id),
                )

    def close(self) -> None:
        self._db.close()
        self._lock.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def reconcile(self) -> list[str]:
        """Drop the utterances of sources whose ingest was cut short (marked ``ingesting``, so
        stats and exports never show half a recording; the next ingest redoes them), then
        remove audio files that no committed row names (left by a crash); return those files.
        Run when the store is opened by its only user (see ``__init__``)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM utterances WHERE source IN "
                "(SELECT path FROM sources WHERE status='ingesting')"
            )
            db.execute("UPDATE sources SET status='interrupted' WHERE status='ingesting'")
        known = {row["audio_path"] for row in self._db.execute("SELECT audio_path FROM utterances")}
        removed = []
        for path in (self.root / AUDIO_DIR).rglob("*"):
            relative = path.relative_to(self.root).as_posix()
            if path.is_file() and relative not in known:
                path.unlink()
                removed.append(relative)
        return removed

    def add_speaker(self, speaker: Speaker) -> None:
        if not SPEAKER_ID.match(speaker.id):
            raise DatasetError(
                f"speaker id {speaker.id!r}: use letters, digits, '_', '.', '-' (up to 64), "
                "starting with a letter or digit"
            )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO speakers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "name=excluded.name, language=excluded.language, "
                "consent_given=excluded.consent_given, consent_at=excluded.consent_at, "
                "consent_by=excluded.consent_by",
                (
                    speaker.id,
                    speaker.name or speaker.id,
                    speaker.language,
                    int(speaker.consent_given),
                    speaker.consent_at,
                    speaker.consent_by,
                ),
            )

    def speakers(self) -> list[Speaker]:
        rows = self._db.execute("SELECT * FROM speakers ORDER BY id").fetchall()
        return [
            Speaker(
                r["id"],
                r["name"],
                r["language"],
                bool(r["consent_given"]),
                r["consent_at"],
                r["consent_by"],
            )
            for r in rows
        ]

    def speaker(self, speaker_id: str) -> Speaker:
        for speaker in self.speakers():
            if speaker.id == speaker_id:
                return speaker
        raise DatasetError(f"no speaker {speaker_id!r} in {self.root}")

    def add_utterance(self, audio: Audio, draft: Utterance) -> Utterance:
        """Store audio and its catalog row; the id and audio path are assigned here."""
        identifier = uuid.uuid4().hex[:16]
        relative = self._write_audio(audio, f"{AUDIO_DIR}/{draft.speaker_id}/{identifier}.flac")
        utterance = dataclasses.replace(
            draft,
            id=identifier,
            audio_path=relative,
            duration=audio.duration,
            sample_rate=audio.sample_rate,
        )
        try:
            with self._transaction() as db:
                row = to_row(utterance)
                marks = ", ".join("?" * len(row))
                db.execute(
                    f"INSERT INTO utterances ({', '.join(row)}) VALUES ({marks})",
                    tuple(row.values()),
                )
        except BaseException:
            (self.root / relative).unlink(missing_ok=True)
            raise
        return utterance

    def _write_audio(self, audio: Audio, relative: str) -> str:
        """Write FLAC atomically (encrypted, as ``.flac.enc``, with a key); returns the path."""
        if self.cipher is None:
            encode(audio, self.root / relative, mode=0o600)
            return relative
        relative += ".enc"
        buffer = io.BytesIO()
        encode(audio, buffer, "flac")
        _write_atomically(self.root / relative, self.cipher.encrypt(buffer.getvalue(), relative))
        return relative

    def add_take(self, audio: Audio, speaker_id: str) -> str:
        """Keep a recording exactly as it was captured (lossless, at its own rate), before
        anything judges it; returns its path in the store. Takes are never tidied away."""
        return self._write_audio(audio, f"{TAKES_DIR}/{speaker_id}/{uuid.uuid4().hex[:16]}.flac")

    def read_take(self, relative: str) -> Audio:
        return self._read(relative)

    def utterance(self, identifier: str) -> Utterance:
        row = self._db.execute("SELECT * FROM utterances WHERE id=?", (identifier,)).fetchone()
        if row is None:
            raise DatasetError(f"no utterance {identifier!r} in {self.root}")
        return from_row(row)

    def revise(
        self,
        identifier: str,
        text: str | None = None,
        status: tuple[str, tuple[str, ...]] | None = None,
    ) -> Utterance:
        """A reviewer's change: a corrected text (its spoken form follows) and/or a new
        (status, reasons)."""
        utterance = self.utterance(identifier)
        if text is not None:
            spoken, spoken_words = spoken_form(text, utterance.words, utterance.language)
            utterance = dataclasses.replace(
                utterance, text=text, spoken_text=spoken, spoken_words=spoken_words
            )
        if status is not None:
            utterance = dataclasses.replace(utterance, status=status[0], reasons=status[1])
        with self._transaction() as db:
            db.execute(
                "UPDATE utterances SET text=?, spoken_text=?, spoken_words=?, status=?, reasons=? "
                "WHERE id=?",
                (
                    utterance.text,
                    utterance.spoken_text,
                    words_json(utterance.spoken_words),
                    utterance.status,
                    json.dumps(list(utterance.reasons)),
                    identifier,
                ),
            )
        return utterance

    def utterances(self, status: str | None = None, speaker: str | None = None) -> list[Utterance]:
        query, arguments = "SELECT * FROM utterances WHERE 1=1", list[str]()
        if status:
            query, arguments = query + " AND status = ?", [*arguments, status]
        if speaker:
            query, arguments = query + " AND speaker_id = ?", [*arguments, speaker]
        rows = self._db.execute(query + " ORDER BY created_at, id", arguments).fetchall()
        return [from_row(row) for row in rows]

    def set_quality(
        self, identifier: str, status: str, reasons: tuple[str, ...], metrics: dict[str, float]
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE utterances SET status=?, reasons=?, metrics=? WHERE id=?",
                (status, json.dumps(list(reasons)), json.dumps(metrics), identifier),
            )

    def remove_source_utterances(self, source: str) -> None:
        """Drop what an interrupted run stored from one source, rows first, then files."""
        with self._transaction() as db:
            rows = db.execute("SELECT audio_path FROM utterances WHERE source=?", (source,))
            paths = [row["audio_path"] for row in rows]
            db.execute("DELETE FROM utterances WHERE source=?", (source,))
        for relative in paths:
            (self.root / relative).unlink(missing_ok=True)

    def source_status(self, path: str) -> str | None:
        row = self._db.execute("SELECT status FROM sources WHERE path=?", (path,)).fetchone()
        return str(row["status"]) if row else None

    def mark_source(
        self, path: str, speaker_id: str, status: str, reason: str = "", utterances: int = 0
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                (path, speaker_id, status, reason, utterances, now()),
            )

    def failed_sources(self) -> list[tuple[str, str]]:
        rows = self._db.execute("SELECT path, reason FROM sources WHERE status='failed'")
        return sorted((row["path"], row["reason"]) for row in rows)

    def stats(self) -> list[SpeakerStats]:
        """Per speaker: utterances accepted and rejected, and seconds of each."""
        rows = self._db.execute(
            "SELECT speaker_id, status, COUNT(*) AS n, SUM(duration) AS seconds "
            "FROM utterances GROUP BY speaker_id, status"
        ).fetchall()
        table: dict[str, SpeakerStats] = {s.id: SpeakerStats(s.id) for s in self.speakers()}
        for row in rows:
            entry = table.setdefault(row["speaker_id"], SpeakerStats(row["speaker_id"]))
            if row["status"] == "accepted":
                entry.accepted, entry.accepted_seconds = row["n"], row["seconds"]
            else:
                entry.rejected, entry.rejected_seconds = row["n"], row["seconds"]
        return list(table.values())

    def audio(self, utterance: Utterance) -> Path:
        """Where the utterance's audio file lies (encrypted if it ends in ``.enc``)."""
        return self.root / utterance.audio_path

    def read_audio(self, utterance: Utterance) -> Audio:
        """The utterance's audio, decrypted when the dataset is encrypted."""
        return self._read(utterance.audio_path)

    def _read(self, relative: str) -> Audio:
        path = self.root / relative
        if not relative.endswith(".enc"):
            return decode(path)
        if self.cipher is None:
            raise DatasetError(f"{path}: encrypted, and no key was given")
        return decode(self.cipher.decrypt(path.read_bytes(), relative))


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_atomically(path: Path, data: bytes) -> None:
    _private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
