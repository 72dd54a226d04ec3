"""Inputs a hostile or careless person might give plansync, shared by the tests and bench.faults."""

from __future__ import annotations

from tests.support.plans import GOOD_PLAN as GOOD

GOOD_CONFIG = """\
plans: [plan.yaml]
state_dir: state
caldav:
  url: https://dav.example.ru/
  username: konb
  password_env: CALDAV_PASSWORD
  timeout: 10
calendars:
  konb: {name: КОНБ — план}
  gaidar: {url: "https://dav.example.ru/cal/gaidar/"}
sync: {conflict_policy: report, long_span_days: 40, max_delete_share: 0.3, interval: 10m}
digest: {from: "План <plan@example.ru>", reply_to: nmo@example.ru, schedule: "mon 08:00", period_days: 7}
mail:
  transport: smtp
  smtp: {host: smtp.example.ru, port: 587, security: starttls, username: konb, password_env: SMTP_PW}
"""


HOSTILE_DOCUMENTS: dict[str, bytes] = {
    "deep flow lists": b"plan: " + b"[" * 50_000 + b"]" * 50_000,
    "deep flow maps": b"plan: " + b"{a: " * 20_000 + b"x" + b"}" * 20_000,
    "deep block maps": "".join(f"{' ' * i}a:\n" for i in range(3000)).encode(),
    "alias bomb": (
        b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n".encode() for i in range(1, 15))
    ),
    "merge-key bomb": (
        b"b0: &b0 {k: v}\n"
        + b"".join(f"b{i}: &b{i} {{<<: [{', '.join([f'*b{i - 1}'] * 10)}]}}\n".encode() for i in range(1, 12))
        + b"events: *b11\n"
    ),
    "invalid UTF-8": GOOD.encode()[:200] + b"\xff\xfe\xc3" + GOOD.encode()[200:],
    "UTF-16": GOOD.encode("utf-16"),
    "NUL bytes": GOOD.replace("Тестовый план", "Тест\x00план").encode(),
    "a 5 MB title": GOOD.replace("Тестовый план", "Я" * 2_500_000).encode(),
    "a 5 MB key": ("k" * 5_000_000 + ": 1\n").encode(),
    "a 300 KB line of flow": b"plan: [" + b"x, " * 100_000 + b"]",
    "40 MB file": b"#" * (33 * 1024 * 1024),
    "5,000 empty events": b"events:\n" + b"  - {}\n" * 5_000,
    "a tab indent": GOOD.replace("  id: test-2025", "\tid: test-2025").encode(),
    "just a string": b"'" + b"x" * 100_000 + b"'",
    "document stream": GOOD.encode() + b"\n---\n" + GOOD.encode(),
    "tags": b"!!python/object:os.system {}\n",
}


# iCalendar lines a server may accept (Xandikos when not strict) that icalendar or dateutil choke on:
# bad RRULE values, odd VALUE types, extreme dates, broken encodings, control characters.
ODD_LINES = [
    b"RRULE:FREQ=WEEKLY;UNTIL=2024xx",
    b"RRULE:FREQ=FOO;BYDAY=XX",
    b"RRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2",
    b"RRULE:FREQ=DAILY;UNTIL=99991231T235959Z",
    b"EXDATE:garbage",
    b"DURATION:P99999999W",
    b"SUMMARY;ENCODING=BASE64:@@@@",
    b"DESCRIPTION;CHARSET=koi8-r:\xf0\xd2\xc9\xd7\xc5\xd4",
    b"CATEGORIES:\xed\xa0\x80",
    b"X-ALT-DESC;FMTTYPE=text/html:<b>\x00</b>",
    b'ATTENDEE;CN="\r\n":mailto:x@y',
    b"GEO:not;numbers",
    b"SEQUENCE:-99999999999999999999",
]
ODD_STARTS = [
    b"DTSTART;VALUE=DATE:2024031",
    b"DTSTART:00010101T000000Z",
    b"DTSTART:99991231T235959Z",
    b"DTSTART;TZID=Nowhere/Zone:20240315T100000",
    b"DTSTART;VALUE=PERIOD:20240315T100000Z/PT1H",
    b"DTSTART:20240315",
]
