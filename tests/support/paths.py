"""Where the repository's own files are, for tests that read them."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The published 2024 plan (a copy of the regional libraries' source text), which the importer reads.
SEED = REPO / "data" / "sources" / "plan-2024.txt"
PLAN_2024 = REPO / "data" / "plan-2024.yaml"
