"""When a CalDAV request may be sent again, and how long to wait first.

Only requests that cannot do harm twice are retried: the read-only methods, and writes guarded by
`If-Match` / `If-None-Match` (a repeat of one the server already applied is refused with 412 or 404,
which the syncer re-decides, instead of being applied twice). MKCALENDAR, PROPPATCH and other
unguarded writes are sent once.

What is retried: a failed connection or a timeout, and the answers 429, 500, 502, 503 and 504. A
`Retry-After` (seconds or an HTTP date) is honoured up to `retry_after_cap`; a server that asks for a
longer pause gets none: the request fails now with a message that says so. The number of attempts and
the total time spent on one request (waits and attempts together) are bounded.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from plansync.util.backoff import doubling

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
GUARDED_METHODS = frozenset({"PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first one included
    base_delay: float = 0.5  # before the second attempt; doubled for each later one
    max_delay: float = 8.0
    retry_after_cap: float = 30.0  # the longest Retry-After honoured
    budget: float = 90.0  # seconds one request may take, attempts and waits together

    def backoff(self, failures: int) -> float:
        """The pause after `failures` failed attempts (1, 2, …) when the server gave no Retry-After."""
        return doubling(failures, self.base_delay, self.max_delay)


# Set by `plansync serve` on SIGTERM/SIGINT: a wait between two attempts ends at once and the request
# fails, so the service stops within seconds even while a server keeps asking it to come back later.
stop_waiting = threading.Event()


def may_retry(method: str, headers: Mapping[str, str] | None) -> bool:
    """A request that is safe to send twice."""
    verb = method.upper()
    if verb in SAFE_METHODS:
        return True
    if verb in GUARDED_METHODS and headers:
        names = {k.lower() for k in headers}
        return "if-match" in names or "if-none-match" in names
    return False


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After: 120` or `Retry-After: Fri, 31 Dec 1999 23:59:59 GMT` in seconds from now; None when
    absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text[:9]))  # a 9-digit bound: nobody waits 30 years
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now if now is not None else dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def permanent(exc: BaseException) -> bool:
    """A transport error that repeating cannot cure: TLS trouble (an untrusted certificate above all)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        text = str(current)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class Verdict:
    """What to do after a failed attempt: wait `delay` seconds and try again, or give up (`why`)."""

    retry: bool
    delay: float = 0.0
    why: str = ""


def next_step(
    policy: RetryPolicy,
    *,
    failures: int,
    elapsed: float,
    retry_after: float | None,
) -> Verdict:
    """After `failures` failed attempts that took `elapsed` seconds so far."""
    if failures >= policy.attempts:
        return Verdict(False, why=f"gave up after {failures} attempt{'s' if failures != 1 else ''}")
    if retry_after is not None and retry_after > policy.retry_after_cap:
        return Verdict(
            False, why=f"the server asks to retry after {retry_after:.0f} s, longer than plansync waits"
        )
    delay = retry_after if retry_after is not None else policy.backoff(failures)
    if elapsed + delay >= policy.budget:
        return Verdict(False, why=f"gave up after {elapsed:.0f} s")
    return Verdict(True, delay)
