"""The exceptions of the data layers (documents, knowledge files, index, model): each message says, in French,
what went wrong and what to do. assistant.errors adds the question's own and re-exports these."""

from __future__ import annotations


class CepError(Exception):
    """Base class of every error the assistant reports to a user."""


class DocumentError(CepError):
    """A document could not be read (corrupt, encrypted, empty, wrong encoding...)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Le document « {name} » n'a pas pu être lu : {reason}")
        self.name = name
        self.reason = reason


class KnowledgeError(CepError):
    """A knowledge file (operators, rules, lexicon) is invalid; names the file and row."""


class IndexUnavailable(CepError):
    """The index on disk is missing, corrupt or built for another model or corpus."""


class ModelUnavailable(CepError):
    """The embedding model cannot be loaded."""
