"""The published pages in real browsers: axe-core in headless Chromium finds no WCAG 2.1 A/AA (or best
practice) violation on any page, at desktop and phone widths; the screenshots and the print preview
render; a text browser (lynx) reads the agenda in order."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from plansync.planread.planfile import load_plan
from plansync.publish.site import SiteBuilder
from plansync.publish.writer import write_site
from tests.support.browser import axe_path, axe_violations, chromium, run_chromium
from tests.support.paths import PLAN_2024

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]  # slow: runs Chromium

STAMP = dt.datetime(2024, 1, 9, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = SiteBuilder().build([load_plan(PLAN_2024)], stamp=STAMP, base_url="https://lib39.example/plan/")
    write_site(out, built.files)
    return out


def test_axe_finds_no_violation_on_any_page(site: Path, tmp_path: Path) -> None:
    binary = chromium()
    axe_path()
    pages = sorted(site.glob("*.html"))
    assert len(pages) > 10  # the index, one page per organizer and per form

    def check(job: tuple[int, Path, int]) -> tuple[str, int, list[dict[str, object]]]:
        n, page, width = job
        return page.name, width, axe_violations(binary, page, tmp_path / f"profile-{n % 2}-{n}", width=width)

    jobs = [(n, page, 1200) for n, page in enumerate(pages)]
    jobs += [(len(jobs), site / "index.html", 390)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(check, jobs))
    failures = {f"{name} @{width}px": found for name, width, found in results if found}
    assert not failures, failures


def test_axe_would_see_a_violation(tmp_path: Path) -> None:
    """The check can fail: a page with an unlabelled form field and grey-on-white text."""
    binary = chromium()
    axe_path()
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>x</title></head><body><main>'
        '<h1>x</h1><input type="text"><p style="color:#bbbbbb">серый текст</p></main></body></html>',
        encoding="utf-8",
    )
    found = {v["id"] for v in axe_violations(binary, page, tmp_path / "profile")}
    assert {"label", "color-contrast"} <= found


@pytest.mark.parametrize("width", [1200, 390])
def test_screenshots_render(site: Path, tmp_path: Path, width: int) -> None:
    binary = chromium()
    shot = tmp_path / f"index-{width}.png"
    run_chromium(
        binary,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={width},2000",
        (site / "index.html").as_uri(),
    )
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    if os.environ.get("PLANSYNC_KEEP_SCREENSHOT"):
        shutil.copy(shot, Path(os.environ["PLANSYNC_KEEP_SCREENSHOT"]).with_suffix(f".{width}.png"))


def test_print_preview_renders(site: Path, tmp_path: Path) -> None:
    binary = chromium()
    pdf = tmp_path / "index.pdf"
    run_chromium(
        binary,
        tmp_path / "profile",
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
        (site / "index.html").as_uri(),
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 2


def test_a_text_browser_reads_the_agenda_in_order(site: Path) -> None:
    lynx = shutil.which("lynx")
    if lynx is None:
        if os.environ.get("CI") == "true":
            pytest.fail("lynx is not installed: CI must `apt-get install -y lynx`")
        pytest.skip("lynx is not installed (apt-get install -y lynx)")
    text = subprocess.run(
        [lynx, "-dump", "-nolist", "-width=100", "-display_charset=utf-8", str(site / "index.html")],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "Сводный план" in text
    assert "{" not in text, "style sheet text leaked into the page"
    # After the filters (whose links name the same months), the sections in reading order.
    body = text[text.index("Долгосрочные, регулярные и без точной даты") :]
    headings = ("Январь 2024", "Май 2024", "Декабрь 2024", "Как подписаться", "Организаторы и контакты")
    order = [body.index(h) for h in headings]
    assert order == sorted(order)
    assert "Когда" in text and "Мероприятие" in text


def test_a_320_px_phone_needs_no_sideways_scrolling(site: Path, tmp_path: Path) -> None:
    """WCAG 1.4.10 (reflow): every page in a 320 CSS px viewport (an iframe: headless windows are at
    least 500 px wide) has nothing wider than the viewport."""
    binary = chromium()
    pages = sorted(p.name for p in site.glob("*.html"))
    probe = site / ".reflow.html"
    probe.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>reflow</title></head><body>'
        '<iframe id="f" title="page" style="width:320px;height:900px;border:0"></iframe><script>'
        f"const pages = {json.dumps(pages)}; const found = []; const frame = document.getElementById('f');"
        "function next(i) { if (i === pages.length) {"
        " const p = document.createElement('pre'); p.id = 'reflow';"
        " p.textContent = JSON.stringify(found); document.body.appendChild(p); return; }"
        " frame.onload = () => { const w = frame.contentWindow;"
        " for (const el of w.document.body.querySelectorAll('*')) { const r = el.getBoundingClientRect();"
        " if (r.right > w.innerWidth + 0.5) {"
        " found.push(pages[i] + ': ' + el.tagName + '.' + el.className); } }"
        " next(i + 1); }; frame.src = pages[i]; }"
        "next(0);</script></body></html>",
        encoding="utf-8",
    )
    try:
        dom = run_chromium(
            binary, tmp_path / "profile", "--allow-file-access-from-files", "--dump-dom", probe.as_uri()
        )
    finally:
        probe.unlink()
    match = re.search(r'<pre id="reflow">(.*?)</pre>', dom, re.S)
    assert match, dom[-500:]
    wider = json.loads(html.unescape(match.group(1)))
    assert not wider, f"wider than 320 px: {wider[:10]}"
