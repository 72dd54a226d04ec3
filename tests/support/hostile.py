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
