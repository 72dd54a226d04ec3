"""axe-core (npm, pinned in tests/support/js; `scripts/js-deps` installs it) run on an HTML file in
headless Chromium: the accessibility check shared by the digest and the publish tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"

# Runs axe on the page once it has loaded and writes the violations into the DOM for --dump-dom.
_RUNNER = """<script>
window.addEventListener('load', () => {
  axe.run(document, {resultTypes: ['violations']}).then((r) => {
    const out = document.createElement('pre'); out.id = 'axe-results';
    out.textContent = JSON.stringify(r.violations);
    document.documentElement.appendChild(out);
  }, (e) => {
    const out = document.createElement('pre'); out.id = 'axe-results';
    out.textContent = JSON.stringify([{id: 'axe-error', description: String(e), nodes: []}]);
    document.documentElement.appendChild(out);
  });
});
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: CI must run scripts/system-deps")
        pytest.skip("chromium is not installed (apt-get install -y chromium fonts-dejavu-core)")
    return found


def _axe_script() -> Path:
    if not AXE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("axe-core is not installed: CI must run scripts/js-deps")
        pytest.skip("axe-core is not installed (run scripts/js-deps; needs apt-get install -y nodejs npm)")
    return AXE


def axe_violations(html_path: Path) -> list[dict[str, Any]]:
    """axe-core's violations of the page at `html_path` (all rules axe runs by default), as axe
    reports them: dicts with id, impact, description, help and the offending nodes."""
    binary = _chromium()
    script = _axe_script().read_text(encoding="utf-8")
    page = html_path.read_text(encoding="utf-8")
    # Inlined, so the page needs no file access; after </html> is still parsed into <body>.
    injected = page + f"<script>{script}</script>" + _RUNNER
    with tempfile.TemporaryDirectory(prefix="plansync-axe-") as tmp:
        folder = Path(tmp)
        target = folder / html_path.name
        target.write_text(injected, encoding="utf-8")
        command = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            f"--user-data-dir={folder / 'profile'}", "--virtual-time-budget=20000", "--dump-dom",
            target.as_uri(),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    match = re.search(r'<pre id="axe-results">(.*?)</pre>', done.stdout, re.S)
    if match is None:
        raise AssertionError("axe-core did not report (the page did not load?): " + done.stdout[-1000:])
    import html

    violations: list[dict[str, Any]] = json.loads(html.unescape(match.group(1)))
    return violations
