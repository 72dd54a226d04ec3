"""The long-running service: the loop, its schedule (pure) and systemd notification."""
