"""Run-once use cases shared by the CLI and the service: sync once, the calendar server, status."""
