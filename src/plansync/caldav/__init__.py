"""Calendars on a server: the Backend protocol, the CalDAV client and its HTTP, the embedded server."""
