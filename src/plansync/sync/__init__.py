"""Sync: reconcile (pure), the engine of one run and its parts, the report, the render cache, the state."""
