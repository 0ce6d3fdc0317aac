"""The staff login's throttle: the client's address behind trusted proxies, growing delays per session,
per account and per address, never everyone locked out."""

from __future__ import annotations

import pytest

from assistant.app.admin import (
    ACCOUNT_BACKOFF,
    AdminGate,
    Backoff,
    Client,
    LoginThrottle,
    client_address,
    trusted_networks,
)
from assistant.settings import Settings

PROXY = "10.0.0.5"


# --- the client's address --------------------------------------------------------------------------


def test_no_trusted_proxy_means_no_address() -> None:
    # behind an unknown proxy every user would share its address: the throttle counts none
    assert client_address("10.0.0.5", ["203.0.113.7"], ()) is None
    assert client_address("198.51.100.2", [], ()) is None
    assert client_address(None, ["203.0.113.7"], ()) is None


def test_forwarded_for_read_only_from_a_trusted_proxy() -> None:
    assert client_address(PROXY, ["203.0.113.7"], [PROXY]) == "203.0.113.7"
    assert client_address("10.0.0.9", ["203.0.113.7"], ["10.0.0.0/24"]) == "203.0.113.7"  # CIDR
    # a direct connection (not through the proxy): its own address, whatever header it sends
    assert client_address("198.51.100.2", ["203.0.113.7"], [PROXY]) == "198.51.100.2"


def test_right_most_untrusted_entry_is_the_client() -> None:
    trusted = [PROXY, "10.0.1.0/24"]
    # the client wrote "1.2.3.4" itself: entries left of the one our proxies appended are never read
    assert client_address(PROXY, ["1.2.3.4, 203.0.113.7, 10.0.1.3"], trusted) == "203.0.113.7"
    assert client_address(PROXY, ["1.2.3.4", "203.0.113.7"], trusted) == "203.0.113.7"  # repeated header
    assert client_address(PROXY, ["2001:db8::7"], trusted) == "2001:db8::7"
    assert client_address(PROXY, ["[2001:db8::7]:4711"], trusted) == "2001:db8::7"
    assert client_address(PROXY, ["203.0.113.7:4711"], trusted) == "203.0.113.7"


def test_missing_or_unreadable_header_behind_the_proxy_gives_no_address() -> None:
    assert client_address(PROXY, [], [PROXY]) is None  # never the proxy's own address, shared by all
    assert client_address(PROXY, ["10.0.0.5"], [PROXY]) is None  # only proxies
    assert client_address(PROXY, ["203.0.113.7, unknown"], [PROXY]) is None


def test_loopback_proxy() -> None:
    # Streamlit gives no address (None) for a proxy on the same machine
    assert client_address(None, ["203.0.113.7"], ["127.0.0.1"]) == "203.0.113.7"
    assert client_address(None, ["203.0.113.7"], ["::1"]) == "203.0.113.7"
    assert client_address(None, ["203.0.113.7"], ["10.0.0.0/8"]) is None


def test_unreadable_trusted_entries_are_skipped() -> None:
    assert [str(n) for n in trusted_networks(["10.0.0.0/8", "proxy.local", " ::1 "])] == ["10.0.0.0/8", "::1/128"]


def test_trusted_proxies_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEP_TRUSTED_PROXIES", " 10.0.0.5, 172.16.0.0/12 ,,")
    assert Settings.from_env().trusted_proxies == ("10.0.0.5", "172.16.0.0/12")
    monkeypatch.delenv("CEP_TRUSTED_PROXIES")
    assert Settings.from_env().trusted_proxies == ()


# --- growing delays --------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap() -> None:
    b = Backoff(free=3, base=2, cap=60)
    assert [b.delay(n) for n in range(1, 10)] == [0, 0, 0, 2, 4, 8, 16, 32, 60]
    assert b.delay(10_000) == 60


def test_session_delays_grow_with_each_failure() -> None:
    throttle = LoginThrottle(session=Backoff(free=2, base=1, cap=100), account=Backoff(free=100, base=1, cap=1))
    gate, me = AdminGate("pw", throttle), Client("s")
    now, waits = 0.0, []
    for _ in range(6):
        assert gate.check("x", me, now=now).message == "Mot de passe incorrect."
        waits.append(throttle.wait_seconds(me, now))
        now += waits[-1]  # tries again as soon as allowed
    assert waits == [0, 0, 1, 2, 4, 8]
    assert "depuis ce poste" in gate.check("pw", me, now=now - 1).message
    assert gate.check("pw", me, now=now).ok
    assert throttle.wait_seconds(me, now) == 0  # a success starts the session again


def test_an_attacker_rotating_sessions_is_slowed_by_the_account_never_locked_out() -> None:
    gate = AdminGate("pw", LoginThrottle())
    now = 0.0
    for i in range(200):  # a new session for every try, no address known
        result = gate.check("x", Client(f"bot{i}"), now=now)
        now += 1.0 if not result.blocked else 0.5
    blocked = gate.check("pw", Client("staff"), now=now)
    assert blocked.blocked and "sur ce compte" in blocked.message
    # the staff waits at most the account's cap, then gets in
    assert gate.check("pw", Client("staff"), now=now + ACCOUNT_BACKOFF.cap).ok


def test_the_count_is_forgotten_after_a_quiet_while() -> None:
    throttle = LoginThrottle(session=Backoff(free=1, base=10, cap=100, forget=600))
    me = Client("s")
    throttle.failed(me, now=0)
    throttle.failed(me, now=1)
    assert throttle.wait_seconds(me, now=2) > 0
    throttle.failed(me, now=1000)  # long after: a first failure again
    assert throttle.wait_seconds(me, now=1000) == 0


def test_one_failing_address_never_slows_another_address() -> None:
    throttle = LoginThrottle(account=Backoff(free=1000, base=1, cap=1))
    gate = AdminGate("pw", throttle)
    for i in range(50):
        throttle.failed(Client(f"s{i}", "203.0.113.7"), now=float(i))
    assert gate.check("pw", Client("new", "203.0.113.7"), now=50).blocked
    assert gate.check("pw", Client("colleague", "198.51.100.2"), now=50).ok
