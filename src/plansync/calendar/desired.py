"""One event as the plan wants it in one calendar: what the builder makes and the sync compares and writes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Desired:
    """One event as the plan wants it in one calendar."""

    uid: str
    name: str  # the resource name to create it under, e.g. "plan-2024.jan-15.konb.plansync.ics"
    label: str  # for people: "jan-15 «Семинар …»"
    hash: str  # content hash of the owned fields
    fields: Mapping[str, str]  # the owned fields, normalised, for the field-level diff
    # The complete VCALENDAR to PUT, or how to make it when it is written (serialising is most of the
    # cost of rendering; deferred, it runs in the writers while the server answers); b"": known only by
    # its hash (the render cache), to be rendered before it can be written.
    content: bytes | Callable[[], bytes]

    @property
    def is_stub(self) -> bool:
        return self.content == b""

    @property
    def body(self) -> bytes:
        """Made on each call when deferred: nothing holds the bytes of events already written."""
        return self.content() if callable(self.content) else self.content
