"""The documents admin's gate: a password from the settings or Streamlit secrets, compared in constant
time, with failed attempts rate-limited. The password and the attempts are never logged."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.settings import Settings

SECRET_KEYS = ("CEP_ADMIN_PASSWORD", "admin_password")
DISABLED_MESSAGE = (
    "L'administration des documents est désactivée : aucun mot de passe n'est défini "
    "(variable CEP_ADMIN_PASSWORD ou secret Streamlit « admin_password »)."
)


def resolve_password(settings: Settings, secrets: Mapping[str, Any] | None = None) -> str:
    """The admin password: the setting first, else a Streamlit secret; "" when none is set."""
    if settings.admin_password:
        return settings.admin_password
    for key in SECRET_KEYS:
        try:
            value = secrets.get(key) if secrets is not None else None
        except Exception:  # st.secrets raises when no secrets file exists
            return ""
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    message: str


class LoginThrottle:
    """Allows `max_failures` failed attempts per `window` seconds, then refuses for `lockout` seconds."""

    def __init__(self, max_failures: int = 5, window: float = 300.0, lockout: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: list[float] = []
        self._locked_until = 0.0
        self._lock = threading.Lock()

    def wait_seconds(self, now: float) -> float:
        with self._lock:
            return max(0.0, self._locked_until - now)

    def failed(self, now: float) -> None:
        with self._lock:
            self._failures = [t for t in self._failures if now - t < self.window] + [now]
            if len(self._failures) >= self.max_failures:
                self._locked_until = now + self.lockout
                self._failures.clear()

    def succeeded(self) -> None:
        with self._lock:
            self._failures.clear()


class AdminGate:
    """Checks an admin password attempt; one gate (and throttle) per process, shared by all sessions."""

    def __init__(self, password: str, throttle: LoginThrottle | None = None) -> None:
        self._password = password.encode("utf-8")
        self.throttle = throttle or LoginThrottle()

    def __repr__(self) -> str:  # never show the password
        return f"AdminGate(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        return bool(self._password)

    def check(self, attempt: str, now: float | None = None) -> LoginResult:
        now = time.monotonic() if now is None else now
        if not self.enabled:
            return LoginResult(False, DISABLED_MESSAGE)
        wait = self.throttle.wait_seconds(now)
        if wait > 0:
            return LoginResult(False, f"Trop d'essais infructueux : réessayez dans {int(wait) + 1} secondes.")
        if hmac.compare_digest(str(attempt or "").encode("utf-8"), self._password):
            self.throttle.succeeded()
            return LoginResult(True, "Connexion réussie.")
        self.throttle.failed(now)
        return LoginResult(False, "Mot de passe incorrect.")
