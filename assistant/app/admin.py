"""The staff login: a password from the settings or Streamlit secrets, compared in constant time, failed
attempts slowed down by growing delays. The password and the attempts are never logged.

Delays grow per browser session, per account (the staff password is one account) and, when the operator
names the reverse proxies to trust (CEP_TRUSTED_PROXIES), per client address read from X-Forwarded-For.
Without trusted proxies no address is used: behind a proxy every user shares the proxy's address, and
counting it would lock everyone out together.

A client who keeps failing mostly slows itself down: its session waits longer and longer. The account's
delay, which an attacker opening a new session for each try meets, is capped short (30 s by default), so
that an attack slows the staff down but never locks them out.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)

SECRET_KEYS = ("CEP_ADMIN_PASSWORD", "admin_password")
DISABLED_MESSAGE = (
    "Les pages de l'équipe (documents, avis) sont désactivées : aucun mot de passe n'est défini "
    "(variable CEP_ADMIN_PASSWORD ou secret Streamlit « admin_password »)."
)
MAX_BUCKETS = 10_000  # bounded memory whatever the number of sessions an attacker opens
STAFF_ACCOUNT = "équipe"  # the one password slot of the staff pages
LOOPBACK = ("127.0.0.1", "::1")  # Streamlit gives no address (None) for these

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


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


# --- the client's address behind trusted proxies -----------------------------------------------------


def trusted_networks(entries: Iterable[str]) -> list[Network]:
    """The trusted proxies as networks (an address is a /32 or /128); an unreadable entry is skipped."""
    out: list[Network] = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            log.warning("CEP_TRUSTED_PROXIES : « %s » n'est ni une adresse ni un réseau, ignoré", entry.strip())
    return out


def _parse_address(text: str) -> Address | None:
    """An address as a proxy writes it: bare, or with a port ("203.0.113.7:4711", "[2001:db8::1]:80")."""
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str | None:
    """The client's address for the throttle, or None when it cannot be told apart from other clients'.

    `peer` is the socket's address (None: loopback); `forwarded_for` the X-Forwarded-For header values, in
    order; `trusted` the proxies the operator trusts (addresses or CIDR networks). Without trusted proxies
    no address is returned. When the peer is not a trusted proxy it is the client itself. Otherwise the
    client is the right-most X-Forwarded-For entry that is not a trusted proxy: entries left of it may have
    been written by the client and are never read. None when the header is missing or unreadable there.
    """
    networks = trusted_networks(trusted)
    if not networks:
        return None
    peers = [_parse_address(peer)] if peer else [_parse_address(a) for a in LOOPBACK]
    if not any(a is not None and _trusted(a, networks) for a in peers):
        return peer  # a direct connection: its socket address is the client's
    entries = [e for value in forwarded_for for e in value.split(",") if e.strip()]
    for entry in reversed(entries):
        address = _parse_address(entry)
        if address is None:
            return None  # a trusted proxy wrote something unreadable: no address rather than a wrong one
        if not _trusted(address, networks):
            return str(address)
    return None


# --- growing delays --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """Who is trying: the browser session and, when it can be told, the client's network address."""

    session: str = ""
    address: str | None = None


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    message: str
    blocked: bool = False


@dataclass(frozen=True)
class Backoff:
    """After `free` failures in a row, each further failure makes the next try wait `base` seconds, doubled
    at each failure up to `cap`. The count is forgotten `forget` seconds after the last failure."""

    free: int
    base: float
    cap: float
    forget: float = 3600.0

    def delay(self, failures: int) -> float:
        """The wait after `failures` failures in a row."""
        if failures <= self.free:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(failures - self.free - 1, 60))


SESSION_BACKOFF = Backoff(free=4, base=60.0, cap=900.0)  # 1, 2, 4 … min after 5 failures: only this session
ADDRESS_BACKOFF = Backoff(free=15, base=10.0, cap=900.0)  # colleagues behind one address: a higher allowance
ACCOUNT_BACKOFF = Backoff(free=10, base=1.0, cap=30.0)  # everyone trying the account meets it: capped short


@dataclass
class _Bucket:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Failed attempts counted per session, per account and per address (when known), each with its own
    growing delay; the account's is capped short, so that nobody is ever locked out for long."""

    def __init__(
        self,
        session: Backoff = SESSION_BACKOFF,
        account: Backoff = ACCOUNT_BACKOFF,
        address: Backoff = ADDRESS_BACKOFF,
    ) -> None:
        self.backoff = {"session": session, "account": account, "address": address}
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _keys(self, client: Client, account: str) -> list[tuple[str, Backoff]]:
        keys = [(f"session:{client.session}", self.backoff["session"])]
        keys.append((f"account:{account}", self.backoff["account"]))
        if client.address:
            keys.append((f"address:{client.address}", self.backoff["address"]))
        return keys

    def wait_seconds(self, client: Client, now: float, account: str = STAFF_ACCOUNT) -> float:
        """How long this client must wait before trying this account again (0: it may try now)."""
        return max([0.0, *self.waits(client, now, account).values()])

    def waits(self, client: Client, now: float, account: str = STAFF_ACCOUNT) -> dict[str, float]:
        """The waits still running for this client, by kind ("session", "account", "address")."""
        with self._lock:
            out = {}
            for key, _ in self._keys(client, account):
                bucket = self._buckets.get(key)
                if bucket is not None and bucket.locked_until > now:
                    out[key.split(":", 1)[0]] = bucket.locked_until - now
            return out

    def failed(self, client: Client, now: float, account: str = STAFF_ACCOUNT) -> None:
        with self._lock:
            keys = self._keys(client, account)
            self._prune(now, room=sum(k not in self._buckets for k, _ in keys))
            for key, backoff in keys:
                bucket = self._buckets.setdefault(key, _Bucket())
                if now - bucket.last >= backoff.forget:
                    bucket.failures = 0
                bucket.failures += 1
                bucket.last = now
                bucket.locked_until = max(bucket.locked_until, now + backoff.delay(bucket.failures))

    def succeeded(self, client: Client, account: str = STAFF_ACCOUNT) -> None:
        """The session and the account start again (an address keeps its count: others may share it)."""
        with self._lock:
            self._buckets.pop(f"session:{client.session}", None)
            self._buckets.pop(f"account:{account}", None)

    def _prune(self, now: float, room: int = 0) -> None:
        """Drops the buckets nothing holds any more, then the oldest sessions until `room` new ones fit."""
        forget = max(b.forget for b in self.backoff.values())
        stale = [k for k, b in self._buckets.items() if b.locked_until <= now and now - b.last >= forget]
        for k in stale:
            del self._buckets[k]
        while len(self._buckets) + room > MAX_BUCKETS:  # the oldest first, never the account
            victim = next((k for k in self._buckets if not k.startswith("account:")), None)
            if victim is None:
                break
            del self._buckets[victim]


def _seconds(wait: float) -> str:
    n = int(wait) + (0 if wait == int(wait) else 1)
    return f"{n} seconde" if n <= 1 else f"{n} secondes"


class AdminGate:
    """Checks a staff password attempt for one client; one gate and throttle per process."""

    def __init__(self, password: str, throttle: LoginThrottle | None = None, account: str = STAFF_ACCOUNT) -> None:
        self._password = password.encode("utf-8")
        self.throttle = throttle or LoginThrottle()
        self.account = account

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
        waits = self.throttle.waits(client, now, self.account)
        if waits:
            wait = max(waits.values())
            where = "depuis ce poste" if max(waits, key=lambda k: waits[k]) != "account" else "sur ce compte"
            return LoginResult(False, f"Trop d'essais infructueux {where} : réessayez dans {_seconds(wait)}.", True)
        if hmac.compare_digest(str(attempt or "").encode("utf-8"), self._password):
            self.throttle.succeeded(client, self.account)
            return LoginResult(True, "Connexion réussie.")
        self.throttle.failed(client, now, self.account)
        return LoginResult(False, "Mot de passe incorrect.")
