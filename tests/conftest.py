"""Shared test settings. Server fixtures live in their own modules and are imported where used."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
# The published 2024 plan (a copy of shared/seed/000_d2dec4671fa5f813.txt), which the importer reads.
SEED = REPO / "data" / "sources" / "plan-2024.txt"
PLAN_2024 = REPO / "data" / "plan-2024.yaml"

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
