"""The one plan-event → iCalendar builder and its parts: identities, reading back, merging (pure)."""
