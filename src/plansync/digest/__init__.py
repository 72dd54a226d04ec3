"""Weekly digests: selection (pure), wording and rendering, the message, transports, the ledger, sending."""
