"""The assistant's exceptions: each message says, in French, what went wrong and what to do."""

from __future__ import annotations

from ingest.errors import CepError, DocumentError, IndexUnavailable, KnowledgeError, ModelUnavailable

__all__ = ["CepError", "DocumentError", "IndexUnavailable", "InvalidQuestion", "KnowledgeError", "ModelUnavailable"]


class InvalidQuestion(CepError):
    """The question cannot be answered as typed (empty, too long, no words)."""
