"""What a page session decides outside the UI: kiosk mode, inactivity, suggested questions, the chat turns."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from assistant.records import Answer
from assistant.settings import Settings

KIOSK_PARAM = "kiosk"
_TRUE = {"1", "true", "yes", "oui", "on"}
DEFAULT_IDLE_SECONDS = 120

SUGGESTED_QUESTIONS = (
    "Le CEP est-il gratuit ?",
    "Je suis cadre salarié et je veux changer de métier : qui contacter ?",
    "Combien d'entrées en CEP pour l'APEC en Occitanie en 2021 ?",
    "Qui accompagne les jeunes de moins de 26 ans ?",
)


def _truthy(value: object) -> bool:
    if isinstance(value, list | tuple):
        return any(_truthy(v) for v in value)
    return str(value).strip().lower() in _TRUE


def kiosk_mode(settings: Settings, params: Mapping[str, object], locked: bool = False) -> bool:
    """Kiosk when the setting forces it (CEP_KIOSK=1, the kiosk deployment), the URL asks for a preview
    (``?kiosk=1``), or this page session already was a kiosk.

    ``?kiosk=0`` cannot leave kiosk mode within a page session; a new page load without the parameter
    opens the full app unless CEP_KIOSK=1: the URL parameter is a preview, not a lock.
    """
    return bool(settings.kiosk or locked or _truthy(params.get(KIOSK_PARAM, "")))


def idle_seconds() -> int:
    """Inactivity before a kiosk resets (CEP_KIOSK_IDLE_SECONDS, default 120 s, 5 s at least)."""
    try:
        return max(5, int(os.environ.get("CEP_KIOSK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


def idle_check_every(idle: int) -> float:
    """How often a kiosk page checks for inactivity: a few times per idle period, at most every 15 s."""
    return float(max(2, min(15, idle // 3)))


def is_idle(last_activity: float, timeout: float, now: float | None = None) -> bool:
    return ((time.time() if now is None else now) - last_activity) >= timeout


@dataclass
class Turn:
    """One question and its answer in a session's history."""

    question: str
    answer: Answer
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])


def new_answer_id() -> str:
    return uuid.uuid4().hex[:16]


# Page labels of the app (the tests select pages by these).
CHAT, ROUTING, FIGURES, REVIEW, DOCUMENTS = (
    ":material/chat: Poser une question",
    ":material/alt_route: Orienter un appelant",
    ":material/bar_chart: Chiffres",
    ":material/thumb_up: Avis des utilisateurs",
    ":material/folder_open: Documents (admin)",
)
PAGES = (CHAT, ROUTING, FIGURES, REVIEW, DOCUMENTS)
