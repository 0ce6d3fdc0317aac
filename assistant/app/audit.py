"""The staff audit log: one line per admin action (time, action, document name), never what anyone typed."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.settings import Settings

FILE_NAME = "audit.log"
ACTIONS = {
    "login": "connexion",
    "login_failed": "connexion refusée",
    "login_blocked": "connexion bloquée (trop d'essais)",
    "logout": "déconnexion",
    "added": "document ajouté",
    "replaced": "document remplacé",
    "add_refused": "ajout refusé",
    "removed": "document ajouté retiré",
    "hidden": "document intégré retiré",
    "restored": "document intégré rétabli",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_lock = threading.Lock()


@dataclass(frozen=True)
class AuditLine:
    time: datetime
    action: str
    document: str


def audit_path(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def record(settings: Settings, action: str, document: str = "", now: datetime | None = None) -> None:
    """Append one line; the document name is the stored (sanitized) file name, nothing else is written."""
    if action not in ACTIONS:
        raise ValueError(f"action inconnue : {action!r}")
    when = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
    name = _SAFE_NAME.sub("?", document)[:200]
    path = audit_path(settings)
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{when}\t{ACTIONS[action]}\t{name}\n")


def read(settings: Settings, limit: int = 200) -> list[AuditLine]:
    """The last lines, newest first."""
    path = audit_path(settings)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[-limit:]:
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        try:
            out.append(AuditLine(datetime.fromisoformat(parts[0]), parts[1], parts[2]))
        except ValueError:
            continue
    return out[::-1]
