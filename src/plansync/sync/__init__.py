"""Sync: reconcile (pure), the engine of one run, its report, render cache, stamps, writers and state."""
