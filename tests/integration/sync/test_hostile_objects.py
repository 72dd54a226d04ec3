"""Calendar objects a real server (Xandikos, not strict) accepts but that are malformed (bad RRULE
values, odd VALUE types, extreme dates, broken encodings, a NUL that makes the XML answer bad): a foreign
one is left alone and reported, one of plansync's own that cannot be read is treated as changed by a
person, and nothing stops the run or touches another calendar."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plansync.caldav.backend import BackendError
from plansync.caldav.client import CalDAVBackend
from plansync.config.model import CalendarTarget, SyncConfig
from tests.support.hostile import ODD_LINES, ODD_STARTS
from tests.support.plans import small_plan
from tests.support.servers import RunningServer, lenient_xandikos
from tests.support.sync_env import Env

# slow: a lenient Xandikos, and a test that counts its fuzzing
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
_examples = itertools.count(1)


def _env(server: RunningServer, tmp_path: Path) -> Env:
    """Calendars of their own on the shared server: the examples stay apart."""
    n = next(_examples)
    backend = CalDAVBackend(server.url)
    people = CalDAVBackend(server.url)
    targets = {"konb": CalendarTarget(name=f"КОНБ {n}"), "gaidar": CalendarTarget(name=f"Гайдара {n}")}
    return Env(backend, people, tmp_path / "state", server.log.mark, server.log.since, targets)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    ours=st.booleans(),
    start=st.sampled_from([None, *ODD_STARTS]),
    lines=st.lists(st.sampled_from(ODD_LINES), min_size=0, max_size=3),
    junk=st.binary(max_size=12),
    policy=st.sampled_from(["plan-wins", "server-wins", "report"]),
)
def test_malformed_objects_never_stop_a_sync(
    lenient_xandikos: RunningServer,
    tmp_path_factory: pytest.TempPathFactory,
    ours: bool,
    start: bytes | None,
    lines: list[bytes],
    junk: bytes,
    policy: str,
) -> None:
    env = _env(lenient_xandikos, tmp_path_factory.mktemp("hostile"))
    plan = small_plan()
    config = SyncConfig(conflict_policy=policy)  # type: ignore[arg-type]
    first = env.sync(plan, settings=config)
    konb, gaidar = env.url(first, "konb"), env.url(first, "gaidar")
    href, etag, text = env.server(konb)["plan-2024.e1.konb@plansync"]
    body = b"\r\n".join(text.splitlines()) + b"\r\n"  # (line ends come back as LF from the XML answer)
    if not ours:  # someone else's event, in the same odd shape
        body = body.replace(b"UID:plan-2024.e1.konb@plansync", b"UID:someone-else@example.org")
        body = b"\r\n".join(line for line in body.split(b"\r\n") if not line.startswith(b"X-PLANSYNC"))
    if start is not None:
        old = next(line for line in body.split(b"\r\n") if line.startswith(b"DTSTART"))
        body = body.replace(old, start)
    extra = b"\r\n".join([*lines, b"X-JUNK:" + junk.replace(b"\r", b"").replace(b"\n", b"")])
    body = body.replace(b"END:VEVENT", extra + b"\r\nEND:VEVENT")
    try:
        if ours:
            env.people.update(href, etag, body)
        else:
            env.people.create(konb, "someone-else.ics", body)
    except BackendError:
        return  # the server refused it: nothing to see here (Xandikos takes what it cannot read)
    others_before = env.server(gaidar)
    result = env.sync(plan, settings=config)  # must not raise
    assert result.exit_code == 0, result
    assert env.server(gaidar) == others_before
    report = next(c for c in result.calendars if c.key == "konb")
    if ours and policy == "plan-wins" and any(a.conflict for a in report.actions):
        # plansync's own object, unreadable or changed: the plan's version is written back
        fields = env.server(konb)["plan-2024.e1.konb@plansync"]
        assert b"X-JUNK" not in fields[2] or b"SUMMARY:" in fields[2]
    if not ours:
        assert "someone-else@example.org" in env.server(konb)  # left alone, whatever it is
    assert env.sync(plan, settings=config).exit_code == 0  # and the next run goes on as well
    ACCEPTED.append(body)


ACCEPTED: list[bytes] = []


def test_the_fuzzing_reached_the_sync() -> None:
    """The examples above are not all refused by the server: most went through a sync."""
    assert len(ACCEPTED) >= 10
