"""Thumbs feedback on answers, in a local SQLite file: answer id, intent, rating, time (question if enabled).

Nothing is written until someone gives feedback; the question text is kept only when the operator
turned on ``feedback_keep_question``; rows older than ``retention_days`` are deleted on every write
and every read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.settings import Settings

FILE_NAME = "feedback.sqlite3"
MAX_QUESTION_CHARS = 2000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY,
    intent TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (0, 1)),
    created REAL NOT NULL,
    question TEXT
)
"""


@dataclass(frozen=True)
class FeedbackEntry:
    """One rating: 1 useful, 0 not useful."""

    answer_id: str
    intent: str
    rating: int
    created: datetime
    question: str | None = None


class FeedbackStore:
    """Feedback in SQLite; one connection per call, so any thread or session may use it."""

    def __init__(self, path: Path, keep_question: bool = False, retention_days: int = 90) -> None:
        self.path = path
        self.keep_question = keep_question
        self.retention_days = retention_days
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.data_dir / FILE_NAME, settings.feedback_keep_question, settings.retention_days)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.execute(_SCHEMA)
        return conn

    def record(self, answer_id: str, intent: str, rating: int, question: str = "", now: float | None = None) -> None:
        """Store (or change) the rating of one answer; the question only if the setting allows it."""
        if rating not in (0, 1):
            raise ValueError(f"note invalide : {rating!r} (0 ou 1 attendu)")
        if not answer_id:
            raise ValueError("identifiant de réponse manquant")
        now = time.time() if now is None else now
        kept = question[:MAX_QUESTION_CHARS] if (self.keep_question and question) else None
        with self._lock, closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO feedback (answer_id, intent, rating, created, question) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(answer_id) DO UPDATE SET rating = excluded.rating, created = excluded.created",
                (answer_id, intent, rating, now, kept),
            )
            self._purge(conn, now)

    def purge(self, now: float | None = None) -> int:
        """Delete the rows older than the retention period; returns how many."""
        if not self.path.exists():
            return 0
        with self._lock, closing(self._connect()) as conn, conn:
            return self._purge(conn, time.time() if now is None else now)

    def _purge(self, conn: sqlite3.Connection, now: float) -> int:
        if self.retention_days <= 0:
            return 0
        cur = conn.execute("DELETE FROM feedback WHERE created < ?", (now - self.retention_days * 86400,))
        return cur.rowcount

    def entries(self, limit: int = 500, now: float | None = None) -> list[FeedbackEntry]:
        """The most recent ratings within the retention period, newest first."""
        if not self.path.exists():
            return []
        with self._lock, closing(self._connect()) as conn, conn:
            self._purge(conn, time.time() if now is None else now)
            rows = conn.execute(
                "SELECT answer_id, intent, rating, created, question FROM feedback ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [FeedbackEntry(a, i, r, datetime.fromtimestamp(c), q) for a, i, r, c, q in rows]

    def summary(self, now: float | None = None) -> dict[str, tuple[int, int]]:
        """Per intent: (useful, not useful) counts."""
        out: dict[str, list[int]] = {}
        for e in self.entries(limit=1_000_000, now=now):
            counts = out.setdefault(e.intent, [0, 0])
            counts[0 if e.rating == 1 else 1] += 1
        return {k: (v[0], v[1]) for k, v in out.items()}
