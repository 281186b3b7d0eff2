"""Rate limits (per token or user, per anonymous address, stricter for expensive writes)
and the sign-in lockout (django-axes), with its audit event.

The suite runs with rates far above what any test sends (assay.test_settings); the tests
here lower them for themselves and start from an empty cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from assay.accounts import throttles
from assay.accounts.services import create_token
from assay.audit.models import AuditEvent
from assay.portal.templatetags.portal_words import duration_words

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings: Any) -> Any:
    """Set throttle rates for one test (unnamed scopes: no limit), on an empty cache."""
    cache.clear()

    def _set(**values: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
            "user": None, "anon": None, "expensive": None, **values}}

    yield _set
    cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The throttles' clock, set by the test (at the start of a minute)."""
    now = [1_000_020.0]
    monkeypatch.setattr(throttles.WindowThrottle, "timer", staticmethod(lambda: now[0]))
    return now


def bearer(raw: str, **extra: Any) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_throttled(response: Any) -> int:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "throttled" and "throttled" in body["detail"]
    assert body["errors"] == {}
    wait = int(response["Retry-After"])
    assert wait >= 1
    return wait


# -- rates ---------------------------------------------------------------------------------
def test_rates_parse_and_bad_ones_are_refused_in_words():
    assert throttles.parse_rate("600/min") == (600, 60)
    assert throttles.parse_rate("5/second") == (5, 1)
    assert throttles.parse_rate("2/day") == (2, 86400)
    assert throttles.parse_rate("") is None and throttles.parse_rate(None) is None
    for bad in ("600", "0/min", "ten/min", "5/fortnight", "-1/s"):
        with pytest.raises(ValueError, match="is not a rate"):
            throttles.parse_rate(bad)


def test_settings_refuse_a_bad_rate_naming_the_variable(monkeypatch):
    from assay import settings as assay_settings

    monkeypatch.setenv("ASSAY_THROTTLE_USER", "600/fortnight")
    with pytest.raises(ValueError, match="ASSAY_THROTTLE_USER='600/fortnight' is not a rate"):
        assay_settings._throttle_rate("ASSAY_THROTTLE_USER")
    monkeypatch.setenv("ASSAY_THROTTLE_USER", "")
    assert assay_settings._throttle_rate("ASSAY_THROTTLE_USER") == "600/min"  # the default


def test_settings_refuse_an_unknown_cache_url():
    env = {**os.environ, "ASSAY_CACHE_URL": "memcached://cache:11211"}
    done = subprocess.run([sys.executable, "-c", "import assay.settings"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "ASSAY_CACHE_URL='memcached://cache:11211'" in done.stderr


@pytest.mark.parametrize("value, expected", [("off", "None"), ("", "'600/min'"),
                                             ("90/hour", "'90/hour'")])
def test_a_rate_can_be_turned_off_and_empty_means_the_default(value, expected):
    env = {**os.environ, "ASSAY_THROTTLE_USER": value}
    done = subprocess.run([sys.executable, "-c", "import assay.settings as s; "
                           "print(repr(s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['user']))"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == expected


def test_a_rate_that_is_not_one_names_the_setting():
    env = {**os.environ, "ASSAY_THROTTLE_ANON": "lots"}
    done = subprocess.run([sys.executable, "-c", "import assay.settings"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "ASSAY_THROTTLE_ANON='lots'" in done.stderr


def test_the_suite_runs_with_rates_no_test_reaches():
    for scope in ("user", "anon", "expensive"):
        allowed, _ = throttles.parse_rate(api_settings.DEFAULT_THROTTLE_RATES[scope])
        assert allowed >= 100_000


# -- per token, per user -------------------------------------------------------------------
def test_each_token_and_each_session_user_has_its_own_allowance(users, rates):
    rates(user="3/min")
    _, first = create_token(users["creator"], name="a", scope="read")
    _, second = create_token(users["creator"], name="b", scope="read")
    client = bearer(first)
    for _ in range(3):
        assert client.get("/api/v1/tokens/").status_code == 200
    wait = assert_throttled(client.get("/api/v1/tokens/"))
    assert wait <= 120
    assert bearer(second).get("/api/v1/tokens/").status_code == 200
    session = APIClient()
    session.force_authenticate(users["creator"])
    assert session.get("/api/v1/tokens/").status_code == 200
    other = APIClient()
    other.force_authenticate(users["reviewer"])
    for _ in range(3):
        assert other.get("/api/v1/tokens/").status_code == 200
    assert_throttled(other.get("/api/v1/tokens/"))


def test_retry_after_says_when_a_call_gets_through(users, rates, clock):
    rates(user="2/min")
    client = APIClient()
    client.force_authenticate(users["creator"])
    assert client.get("/api/v1/tokens/").status_code == 200
    assert client.get("/api/v1/tokens/").status_code == 200
    wait = assert_throttled(client.get("/api/v1/tokens/"))
    start = clock[0]
    clock[0] = start + wait - 1
    assert_throttled(client.get("/api/v1/tokens/"))  # refused calls do not add to the count
    clock[0] = start + wait
    assert client.get("/api/v1/tokens/").status_code == 200


@pytest.mark.parametrize("now,limit,calls,waits", [
    # two calls at a window's start fill it; the third waits until their share has faded
    (60.0, 2, 3, [None, None, 90.0]),
    # calls late in a window: the next window starts almost full and empties as it goes
    (119.0, 2, 3, [None, None, 31.0]),
])
def test_window_arithmetic(now, limit, calls, waits, rates):
    assert [throttles.hit("unit", limit, 60, now) for _ in range(calls)] == waits
    # at the promised time, one more call is allowed
    assert throttles.hit("unit", limit, 60, now + waits[-1]) is None


# -- anonymous callers ---------------------------------------------------------------------
def test_refused_tokens_count_against_the_address_and_forged_forwarding_does_not_help(
        db, rates):
    rates(anon="2/min")
    client = bearer("asy_guess")
    assert client.get("/api/v1/tokens/").status_code == 401
    assert client.get("/api/v1/tokens/", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 401
    assert_throttled(client.get("/api/v1/tokens/", HTTP_X_FORWARDED_FOR="198.51.100.1"))
    assert bearer("asy_guess", REMOTE_ADDR="10.1.2.3").get("/api/v1/tokens/").status_code == 401


def test_behind_trusted_proxies_the_forwarded_address_counts(db, rates, settings):
    settings.ASSAY_NUM_PROXIES = 1
    rates(anon="1/min")
    client = bearer("asy_guess")
    assert client.get("/api/v1/tokens/", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 401
    assert_throttled(client.get("/api/v1/tokens/", HTTP_X_FORWARDED_FOR="203.0.113.7"))
    assert client.get("/api/v1/tokens/", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 401


class OpenView(APIView):
    """An endpoint anyone may call, with the default throttles."""

    permission_classes = [AllowAny]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


def test_anonymous_calls_to_open_endpoints_are_limited_per_address(users, rates):
    rates(anon="2/min")
    view, factory = OpenView.as_view(), APIRequestFactory()
    assert [view(factory.get("/open/")).status_code for _ in range(3)] == [200, 200, 429]
    assert view(factory.get("/open/", REMOTE_ADDR="10.9.9.9")).status_code == 200
    signed_in = factory.get("/open/")
    force_authenticate(signed_in, users["creator"])
    assert view(signed_in).status_code == 200  # the anonymous limit is for anonymous calls


# -- expensive writes ----------------------------------------------------------------------
def test_the_expensive_routes_exist():
    assert reverse("api:generation-list") == "/api/v1/generations/"
    assert reverse("api:provenance-verify") == "/api/v1/provenance/verify/"


def test_expensive_writes_have_a_stricter_allowance_per_route(users, rates):
    rates(expensive="1/min")
    client = APIClient()
    client.force_authenticate(users["creator"])
    assert client.post("/api/v1/generations/", {}, format="json").status_code == 400
    assert_throttled(client.post("/api/v1/generations/", {}, format="json"))
    assert client.get("/api/v1/generations/").status_code == 200  # reads are not limited
    assert client.post("/api/v1/provenance/verify/", {}, format="multipart").status_code == 400
    assert_throttled(client.post("/api/v1/provenance/verify/", {}, format="multipart"))
    other = APIClient()
    other.force_authenticate(users["owner"])
    assert other.post("/api/v1/generations/", {}, format="json").status_code == 400


# -- the shared cache ----------------------------------------------------------------------
@pytest.fixture
def redis_cache(require_redis: str, settings: Any) -> str:
    """Django's cache on this run's Redis database (what ASSAY_CACHE_URL sets up)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": require_redis, "KEY_PREFIX": "assay-test"}}
    cache.clear()
    yield require_redis
    cache.clear()


@pytest.mark.redis
def test_a_parallel_burst_is_counted_exactly_in_the_shared_cache(redis_cache):
    barrier = threading.Barrier(20)
    outcomes: list[float | None] = []

    def call() -> None:
        barrier.wait()
        outcomes.append(throttles.hit("burst", 5, 3600, 7200.0))

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 5 and len(outcomes) == 20
    # another process's connection sees the same count
    other = RedisCache(redis_cache, {"KEY_PREFIX": "assay-test"})
    assert other.get("throttle:burst:2") == 5


@pytest.mark.redis
def test_rest_limits_count_in_redis(users, redis_cache, rates):
    rates(user="2/min")
    _, raw = create_token(users["creator"], name="a", scope="read")
    client = bearer(raw)
    assert [client.get("/api/v1/tokens/").status_code for _ in range(3)] == [200, 200, 429]


def test_an_unreachable_cache_lets_calls_through(users, rates, caplog):
    rates(user="1/min")
    client = APIClient()
    client.force_authenticate(users["creator"])
    with override_settings(CACHES={"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}):
        assert [client.get("/api/v1/tokens/").status_code for _ in range(2)] == [200, 200]
    assert "cache is unavailable" in caplog.text


# -- the sign-in lockout -------------------------------------------------------------------
@pytest.fixture
def lockout(settings: Any) -> Any:
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def sign_in(client: Any, url: str, username: str, password: str, **extra: Any) -> Any:
    return client.post(url, {"username": username, "password": password}, **extra)


def locked_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="accounts.user.locked_out"))


def test_portal_sign_in_locks_after_the_limit_and_audits_the_lockout_once(
        client, users, lockout):
    url = reverse("portal:login")
    assert sign_in(client, url, "cara", "nope").status_code == 200
    assert sign_in(client, url, "cara", "nope").status_code == 200
    locked = sign_in(client, url, "cara", "nope")
    assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode()
    assert "try again in 15 minutes" in locked.content.decode().lower()
    right = sign_in(client, url, "cara", "pw")
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert sign_in(client, url, "cara", "nope").status_code == 429
    (event,) = locked_events()
    assert event.actor_display == "system:auth" and event.target_id == str(users["creator"].pk)
    assert event.data["username"] == "cara" and event.data["ip"] == "127.0.0.1"
    assert event.data["failures"] == 3 and event.data["cooloff_minutes"] == 15
    assert event.data["path"] == url
    assert AuditEvent.objects.filter(action="accounts.user.login_failed").count() >= 5

    # by username and address together: the same person elsewhere, or another user, gets in
    elsewhere = sign_in(client, url, "cara", "pw", REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 302
    assert sign_in(client.__class__(), url, "rui", "pw").status_code == 302


def test_admin_sign_in_is_locked_too(client, users, lockout):
    url = reverse("admin:login")
    for _ in range(2):
        assert sign_in(client, url, "adam", "nope").status_code == 200
    assert sign_in(client, url, "adam", "nope").status_code == 429
    assert sign_in(client, url, "adam", "pw").status_code == 429
    (event,) = locked_events()
    assert event.data["username"] == "adam" and event.data["path"] == url


def test_a_lockout_ends_after_the_cool_off(client, users, lockout):
    url = reverse("portal:login")
    for _ in range(3):
        sign_in(client, url, "cara", "nope")
    assert sign_in(client, url, "cara", "pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=16))
    assert sign_in(client, url, "cara", "pw").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, users, lockout):
    url = reverse("portal:login")
    for _ in range(2):
        sign_in(client, url, "cara", "nope")
    assert sign_in(client, url, "cara", "pw").status_code == 302
    client.post(reverse("portal:logout"))
    for _ in range(2):
        assert sign_in(client, url, "cara", "nope").status_code == 200
    assert not locked_events()


def test_force_login_is_untouched_by_the_lockout(client, users, lockout):
    for _ in range(3):
        sign_in(client, reverse("portal:login"), "cara", "nope")
    client.force_login(users["creator"])
    assert client.get(reverse("portal:home")).status_code == 200


@pytest.mark.parametrize("minutes, words", [(15, "15 minutes"), (1, "1 minute"),
                                            (60, "1 hour"), (90, "1 hour 30 minutes"),
                                            (0.2, "1 minute"), (121, "2 hours 1 minute")])
def test_the_lockout_wait_reads_in_words(minutes, words):
    assert duration_words(timedelta(minutes=minutes)) == words
