"""One Assistant per process for the app, loaded once, swapped in place after a re-index."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from assistant.app.library import corpus_settings
from assistant.pipeline import Assistant
from assistant.settings import Settings
from index.encoders import Encoder

Progress = Callable[[str, int, int], None]


class AssistantHolder:
    """Holds the loaded Assistant; the first session to need it loads it (with progress), others wait."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def ready(self) -> bool:
        return self._assistant is not None

    def get(self, progress: Progress | None = None) -> Assistant:
        """The Assistant, loading it (and building the index when missing) the first time."""
        if self._assistant is not None:
            return self._assistant
        with self._lock:
            if self._assistant is None:
                started = time.perf_counter()
                # Built-in documents (minus hidden ones) and added ones; Assistant.load also warms the model up.
                self._assistant = Assistant.load(corpus_settings(self.settings), progress=progress)
                self.load_seconds = time.perf_counter() - started
            return self._assistant

    @property
    def encoder(self) -> Encoder | None:
        """The loaded encoder, reused by re-indexing so the model is not loaded twice."""
        return self._assistant.index.encoder if self._assistant is not None else None

    def replace(self, assistant: Assistant) -> None:
        """Use a freshly loaded Assistant (after a document was added or removed) in every session."""
        with self._lock:
            self._assistant = assistant
