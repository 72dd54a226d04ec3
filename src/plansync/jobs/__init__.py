"""The use cases the CLI and the service share, each run once: sync, digest, publish, import, status."""
