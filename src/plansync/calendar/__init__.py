"""The one plan-event → iCalendar builder, and reading back what a server holds (pure)."""
