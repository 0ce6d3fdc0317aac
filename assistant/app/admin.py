"""The staff login: a password from the settings or Streamlit secrets, compared in constant time, failed
attempts limited per client (per session, and per network address when it is known). The password and
the attempts are never logged.

A client who keeps failing only locks itself out: the right password from another session or address
still opens the staff pages. The address bucket (``st.context.ip_address``, None on localhost) stops an
attacker who opens a new session for each try; its limit is higher so that colleagues behind one
address are not kept out by a single mistyping neighbour.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.settings import Settings

SECRET_KEYS = ("CEP_ADMIN_PASSWORD", "admin_password")
DISABLED_MESSAGE = (
    "Les pages de l'équipe (documents, avis) sont désactivées : aucun mot de passe n'est défini "
    "(variable CEP_ADMIN_PASSWORD ou secret Streamlit « admin_password »)."
)
MAX_BUCKETS = 10_000  # bounded memory whatever the number of sessions an attacker opens


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
class Client:
    """Who is trying: the browser session and, when Streamlit knows it, the network address."""

    session: str = ""
    address: str | None = None


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    message: str
    blocked: bool = False


@dataclass
class _Bucket:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


@dataclass(frozen=True)
class Limit:
    """`max_failures` failed attempts within `window` seconds lock the client out for `lockout` seconds."""

    max_failures: int
    window: float
    lockout: float


class LoginThrottle:
    """Failed attempts counted per session and per address; each is locked on its own, never everyone."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        lockout: float = 60.0,
        address_limit: Limit | None = None,
    ) -> None:
        self.session_limit = Limit(max_failures, window, lockout)
        self.address_limit = address_limit or Limit(max_failures * 4, window * 2, lockout * 5)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _keys(self, client: Client) -> list[tuple[str, Limit]]:
        keys = [(f"session:{client.session}", self.session_limit)]
        if client.address:
            keys.append((f"address:{client.address}", self.address_limit))
        return keys

    def wait_seconds(self, client: Client, now: float) -> float:
        """How long this client must wait before trying again (0: it may try now)."""
        with self._lock:
            waits = [self._buckets[k].locked_until - now for k, _ in self._keys(client) if k in self._buckets]
            return max([0.0, *waits])

    def failed(self, client: Client, now: float) -> None:
        with self._lock:
            self._prune(now)
            for key, limit in self._keys(client):
                bucket = self._buckets.setdefault(key, _Bucket())
                bucket.failures = [t for t in bucket.failures if now - t < limit.window] + [now]
                if len(bucket.failures) >= limit.max_failures:
                    bucket.locked_until = now + limit.lockout
                    bucket.failures.clear()

    def succeeded(self, client: Client) -> None:
        """The session's count starts again (the address keeps its count: others may share it)."""
        with self._lock:
            self._buckets.pop(f"session:{client.session}", None)

    def _prune(self, now: float) -> None:
        horizon = max(self.session_limit.window, self.address_limit.window)
        stale = [
            k for k, b in self._buckets.items() if b.locked_until <= now and all(now - t >= horizon for t in b.failures)
        ]
        for k in stale:
            del self._buckets[k]
        while len(self._buckets) >= MAX_BUCKETS:  # drop the oldest sessions first
            del self._buckets[next(iter(self._buckets))]


class AdminGate:
    """Checks a staff password attempt for one client; one gate and throttle per process."""

    def __init__(self, password: str, throttle: LoginThrottle | None = None) -> None:
        self._password = password.encode("utf-8")
        self.throttle = throttle or LoginThrottle()

    def __repr__(self) -> str:  # never show the password
        return f"AdminGate(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        return bool(self._password)

    def check(self, attempt: str, client: Client | None = None, now: float | None = None) -> LoginResult:
        client = client or Client()
        now = time.monotonic() if now is None else now
        if not self.enabled:
            return LoginResult(False, DISABLED_MESSAGE)
        wait = self.throttle.wait_seconds(client, now)
        if wait > 0:
            return LoginResult(
                False, f"Trop d'essais infructueux depuis ce poste : réessayez dans {int(wait) + 1} secondes.", True
            )
        if hmac.compare_digest(str(attempt or "").encode("utf-8"), self._password):
            self.throttle.succeeded(client)
            return LoginResult(True, "Connexion réussie.")
        self.throttle.failed(client, now)
        return LoginResult(False, "Mot de passe incorrect.")
