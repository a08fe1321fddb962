"""PostgreSQL + pgvector store, for knowledge bases shared by several machines.

Same interface and guarantees as the SQLite store: one transaction per document, every
knowledge base in the same three tables keyed by name. Dense search is pgvector's cosine
distance (exact); lexical search ranks the analyzer's stemmed terms with PostgreSQL full text
(``ts_rank_cd`` over a ``simple`` tsvector, so the Polish stemming is ours, not the server's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from lbrxvoicepro.errors import BackendNotInstalled, KnowledgeBaseError
from lbrxvoicepro.kb.store import DocumentInfo, NewChunk, Ranked, StoredChunk

_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS lbrx_kb_meta (
    kb text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (kb, key));
CREATE TABLE IF NOT EXISTS lbrx_kb_documents (
    id bigserial PRIMARY KEY, kb text NOT NULL, source text NOT NULL, sha256 text NOT NULL,
    added_at double precision NOT NULL, UNIQUE (kb, source));
CREATE TABLE IF NOT EXISTS lbrx_kb_chunks (
    id bigserial PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES lbrx_kb_documents (id) ON DELETE CASCADE,
    kb text NOT NULL, ordinal integer NOT NULL, text text NOT NULL, location text NOT NULL,
    hash text NOT NULL, terms tsvector NOT NULL, embedding vector NOT NULL);
CREATE INDEX IF NOT EXISTS lbrx_kb_chunks_kb_hash ON lbrx_kb_chunks (kb, hash);
CREATE INDEX IF NOT EXISTS lbrx_kb_chunks_terms ON lbrx_kb_chunks USING gin (terms);
"""


class PostgresStore:
    def __init__(self, url: str, kb: str) -> None:
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError as error:
            raise BackendNotInstalled.extra("postgres", "postgres") from error
        self.url, self.kb = url, kb
        self._psycopg = psycopg
        self._register_vector = register_vector
        self._local = threading.local()
        with self._connection().transaction():
            self._connection().execute(_SCHEMA)

    @staticmethod
    def names(url: str) -> list[str]:
        store = PostgresStore(url, "default")
        rows = store._connection().execute("SELECT DISTINCT kb FROM lbrx_kb_meta ORDER BY kb")
        return [row[0] for row in rows]

    def _connection(self):  # type: ignore[no-untyped-def]
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            try:
                db = self._psycopg.connect(self.url, autocommit=True)
            except self._psycopg.OperationalError as error:
                raise KnowledgeBaseError(f"cannot connect to PostgreSQL: {error}") from error
            db.execute("CREATE EXTENSION IF NOT EXISTS vector")
            self._register_vector(db)
            self._local.db = db
        return db

    def meta(self) -> dict[str, str]:
        rows = self._connection().execute(
            "SELECT key, value FROM lbrx_kb_meta WHERE kb = %s", (self.kb,)
        )
        return dict(rows.fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        db = self._connection()
        with db.transaction():
            for key, value in values.items():
                db.execute(
                    "INSERT INTO lbrx_kb_meta VALUES (%s, %s, %s) "
                    "ON CONFLICT (kb, key) DO UPDATE SET value = excluded.value",
                    (self.kb, key, value),
                )

    def source_with_content(self, sha256: str) -> str | None:
        row = (
            self._connection()
            .execute(
                "SELECT source FROM lbrx_kb_documents WHERE kb = %s AND sha256 = %s",
                (self.kb, sha256),
            )
            .fetchone()
        )
        return row[0] if row else None

    def known_hashes(self, hashes: Sequence[str], ignore_source: str) -> set[str]:
        rows = self._connection().execute(
            "SELECT c.hash FROM lbrx_kb_chunks c JOIN lbrx_kb_documents d ON d.id = c.document_id "
            "WHERE c.kb = %s AND c.hash = ANY(%s) AND d.source <> %s",
            (self.kb, list(hashes), ignore_source),
        )
        return {row[0] for row in rows}

    def put_document(
        self, source: str, sha256: str, chunks: Sequence[NewChunk], vectors: np.ndarray
    ) -> None:
        db = self._connection()
        with db.transaction():
            self._delete(db, [source])
            (document_id,) = db.execute(
                "INSERT INTO lbrx_kb_documents (kb, source, sha256, added_at) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (self.kb, source, sha256, time.time()),
            ).fetchone()
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO lbrx_kb_chunks (document_id, kb, ordinal, text, location, hash, "
                    "terms, embedding) VALUES (%s, %s, %s, %s, %s, %s, "
                    "to_tsvector('simple', %s), %s)",
                    [
                        (document_id, self.kb, n, c.text, c.location, c.hash, " ".join(c.terms), v)
                        for n, (c, v) in enumerate(zip(chunks, vectors, strict=True))
                    ],
                )

    def remove(self, sources: Sequence[str]) -> list[str]:
        db = self._connection()
        with db.transaction():
            return self._delete(db, sources)

    def _delete(self, db, sources: Sequence[str]) -> list[str]:  # type: ignore[no-untyped-def]
        rows = db.execute(
            "DELETE FROM lbrx_kb_documents WHERE kb = %s AND source = ANY(%s) RETURNING source",
            (self.kb, list(sources)),
        )
        return [row[0] for row in rows]

    def documents(self) -> list[DocumentInfo]:
        rows = self._connection().execute(
            "SELECT d.source, d.sha256, count(c.id), d.added_at FROM lbrx_kb_documents d "
            "LEFT JOIN lbrx_kb_chunks c ON c.document_id = d.id WHERE d.kb = %s "
            "GROUP BY d.id ORDER BY d.source",
            (self.kb,),
        )
        return [DocumentInfo(*row) for row in rows]

    def lexical(self, queries: Sequence[Sequence[str]], k: int) -> list[Ranked]:
        db, results = self._connection(), list[Ranked]()
        for terms in queries:
            if not terms:
                results.append([])
                continue
            query = " | ".join(f"'{term}'" for term in dict.fromkeys(terms))
            rows = db.execute(
                "SELECT id, ts_rank_cd(terms, q) AS rank FROM lbrx_kb_chunks, "
                "to_tsquery('simple', %s) q WHERE kb = %s AND terms @@ q "
                "ORDER BY rank DESC LIMIT %s",
                (query, self.kb, k),
            )
            results.append([(row[0], float(row[1])) for row in rows])
        return results

    def dense(self, queries: np.ndarray, k: int) -> list[Ranked]:
        db = self._connection()
        results = []
        for vector in np.asarray(queries, dtype=np.float32):
            rows = db.execute(
                "SELECT id, 1 - (embedding <=> %s) FROM lbrx_kb_chunks WHERE kb = %s "
                "ORDER BY embedding <=> %s LIMIT %s",
                (vector, self.kb, vector, k),
            )
            results.append([(row[0], float(row[1])) for row in rows])
        return results

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        rows = self._connection().execute(
            "SELECT c.id, d.source, c.location, c.text FROM lbrx_kb_chunks c "
            "JOIN lbrx_kb_documents d ON d.id = c.document_id WHERE c.id = ANY(%s)",
            (list(ids),),
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
