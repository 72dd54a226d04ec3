"""Weekly digests: when they are due, what goes in (pure), the mail, the transports, the ledger."""
