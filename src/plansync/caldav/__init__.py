"""Calendars on a server: the Backend protocol, the CalDAV client, its HTTP, retries, the embedded server."""
