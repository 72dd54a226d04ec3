"""plansync: keep CalDAV calendars and e-mail digests in step with a yearly plan of library events."""

__version__ = "0.1.0"
