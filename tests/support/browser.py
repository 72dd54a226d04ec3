"""Headless Chromium and axe-core for the page tests: Debian's `chromium`, and axe-core installed by
`scripts/js-deps` into tests/support/js/node_modules (never fetched at test time).

Missing tools skip the test with the reason on a workstation and fail it under CI=true, so CI cannot
pass without having looked at the pages."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (landmarks, one h1, headings in order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _missing(what: str, install: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed: CI must run `{install}`")
    pytest.skip(f"{what} is not installed ({install})")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        _missing("chromium", "apt-get install -y chromium fonts-dejavu-core")
    assert found is not None
    return found


def axe_path() -> Path:
    if not AXE.exists():
        _missing("axe-core", "scripts/js-deps")
    return AXE


def run_chromium(binary: str, profile: Path, *args: str, timeout: float = 90) -> str:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


def axe_violations(binary: str, page: Path, profile: Path, *, width: int = 1200) -> list[dict[str, Any]]:
    """axe-core's violations on a copy of `page` (same folder, so its links and styles hold), as
    {id, impact, help, nodes}; raises when axe did not report."""
    probe = page.with_name(f".axe-{page.name}")
    script = (
        f'<script src="{axe_path().as_uri()}"></script><script>'
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.html)})), e => [{id: 'axe-error', help: String(e)}])"
        ".then(v => {const p = document.createElement('pre'); p.id = 'axe-result';"
        " p.textContent = JSON.stringify(v); document.documentElement.appendChild(p);});</script>"
    )
    text = page.read_text(encoding="utf-8")
    probe.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    try:
        dom = run_chromium(
            binary,
            profile,
            "--virtual-time-budget=30000",
            f"--window-size={width},900",
            "--dump-dom",
            probe.as_uri(),
        )
    finally:
        probe.unlink(missing_ok=True)
    match = re.search(r'<pre id="axe-result">(.*?)</pre>', dom, re.S)
    if match is None:
        raise AssertionError(f"axe reported nothing for {page.name}: {dom[-500:]}")
    result: list[dict[str, Any]] = json.loads(html.unescape(match.group(1)))
    return result
