"""The plan as plain data (pure)."""
