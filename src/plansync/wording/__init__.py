"""Russian words for dates and the text forms of a plan (pure)."""
