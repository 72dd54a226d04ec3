"""Small helpers every layer may use: files, the lock, backoff, lazy imports, logging."""
