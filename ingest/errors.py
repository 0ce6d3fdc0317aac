"""The exceptions of the data layers (documents, knowledge files, index, model): each message says, in French,
what went wrong and what to do. assistant.errors adds the question's own and re-exports these."""

from __future__ import annotations

import errno

# The reasons the system gives in English (« No such file or directory »), in French words.
OS_REASONS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "disque en lecture seule",
    errno.EIO: "erreur de lecture du disque",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENFILE: "trop de fichiers ouverts",
    errno.ELOOP: "trop de liens symboliques",
    errno.EBUSY: "fichier occupé",
    errno.EEXIST: "le fichier existe déjà",
    errno.ETIMEDOUT: "délai dépassé",
    errno.EINVAL: "argument invalide",
    errno.ENOMEM: "mémoire insuffisante",
    errno.EFBIG: "fichier trop volumineux",
    errno.EXDEV: "déplacement impossible d'un disque à un autre",
    errno.ENOTEMPTY: "dossier non vide",
}


def os_reason(exc: OSError) -> str:
    """Why a file could not be read or written, in French (« fichier ou dossier introuvable »)."""
    reason = OS_REASONS.get(exc.errno) if exc.errno is not None else None
    if reason:
        return reason
    return f"erreur système {exc.errno}" if exc.errno is not None else "erreur d'entrée-sortie"


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
