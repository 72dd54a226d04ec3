"""The HTML digest in a real headless browser (Debian's `chromium` and `fonts-dejavu-core`).

Without chromium the test is skipped on a workstation but FAILS when CI=true, so CI cannot pass
without having looked at the mail.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from plansync.digest.mail import Renderer
from plansync.digest.select import digest_period, select
from tests.support.browser import chromium, run_chromium
from tests.support.plans import event, make_plan

pytestmark = pytest.mark.slow  # runs Chromium

TRICKY = 'Круглый стол «Книги & дети» <script>document.body.setAttribute("data-x", "PW" + "NED")</script>'
# Appended to the test's copy only: writes what a reader sees (innerText honours CSS) into the DOM.
PROBE = (
    "<script>window.addEventListener('load', () => {const p = document.createElement('pre');"
    "p.id = 'visible'; p.textContent = document.body.innerText; document.documentElement.appendChild(p);});"
    "</script>"
)


def test_html_digest_shows_its_content_once_escaped(tmp_path: Path) -> None:
    binary = chromium()
    plan = make_plan(
        event("e1", "20 мая", "lib-a", title="Семинар-практикум «Пушкинская карта»"),
        event("e2", "22 мая, 14:00", "lib-a", title=TRICKY),
        event("e3", "до 23 мая", "lib-a", title="Приём заявок на конкурс"),
        event("e4", "24 мая", "lib-b", title="Вебинар соседей"),
    )
    digest = select([plan], digest_period(dt.date(2024, 5, 20))).digests[0]
    page = Renderer().render(digest).html
    path = tmp_path / "digest.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")

    dom = run_chromium(binary, tmp_path / "profile", "--dump-dom", path.as_uri())
    assert 'data-x="PWNED"' not in dom, "a script from the plan ran"
    match = re.search(r'<pre id="visible">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    visible = html.unescape(match.group(1)).replace("\xa0", " ")  # no-break spaces read as spaces
    for text in (
        "Сводный план на неделю 20–26 мая 2024 г.",
        "Семинар-практикум «Пушкинская карта»",
        "20 мая, пн",
        "22 мая, ср, 14:00",
        'Круглый стол «Книги & дети» <script>document.body.setAttribute("data-x", "PW" + "NED")</script>',
        "до 23 мая, чт",
        "срок",
        "Вебинар соседей",
        "Организатор: Библиотека Б",
    ):
        assert text in visible, f"not visible: {text}"
    assert "&amp;" not in visible and "&lt;" not in visible, "escaped twice"

    shot = tmp_path / "digest.png"
    run_chromium(
        binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=800,1200", path.as_uri()
    )
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    if os.environ.get("PLANSYNC_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["PLANSYNC_KEEP_SCREENSHOT"])


# Writes, for the first entry, where the date and the title sit and how wide the title is.
GEOMETRY = (
    "<script>window.addEventListener('load', () => {const w = document.querySelector('p.when');"
    "const t = document.querySelector('p.title'); const g = document.createElement('pre'); g.id = 'geometry';"
    "const card = document.querySelector('.card').getBoundingClientRect();"
    "g.textContent = JSON.stringify({whenTop: w.getBoundingClientRect().top,"
    "titleTop: t.getBoundingClientRect().top, titleWidth: t.getBoundingClientRect().width,"
    "page: card.right, viewport: window.innerWidth}); document.documentElement.appendChild(g);});</script>"
)


@pytest.mark.parametrize("width", [1200, 390])
def test_one_column_that_fits_the_screen(tmp_path: Path, width: int) -> None:
    import json

    binary = chromium()
    plan = make_plan(
        event(
            "e1",
            "20 мая",
            "lib-a",
            title="Семинар-практикум «Программа «Пушкинская карта»: от замысла к реализации»",
        ),
        event("e4", "24 мая", "lib-b", title="Круглый стол для сотрудников библиотек г. Советска"),
    )
    digest = select([plan], digest_period(dt.date(2024, 5, 20))).digests[0]
    page = Renderer().render(digest, reply_to="nmo@lib39.ru").html
    path = tmp_path / "digest.html"
    path.write_text(page.replace("</body>", GEOMETRY + "</body>"), encoding="utf-8")
    dom = run_chromium(
        binary, tmp_path / "profile", "--dump-dom", f"--window-size={width},900", path.as_uri()
    )
    match = re.search(r'<pre id="geometry">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    g = json.loads(html.unescape(match.group(1)))
    assert g["titleTop"] > g["whenTop"], "the title stands under its date, not beside it"
    assert g["page"] <= g["viewport"], "the card fits the screen"
    assert g["titleWidth"] >= min(600, width - 80), f"the title gets the width of the screen: {g}"
    shot = tmp_path / f"digest-{width}.png"
    clean = tmp_path / "clean.html"
    clean.write_text(page, encoding="utf-8")
    run_chromium(
        binary, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={width},900", clean.as_uri()
    )
    assert shot.stat().st_size > 10_000
    if os.environ.get("PLANSYNC_KEEP_SCREENSHOT"):
        shutil.copy(shot, f"{os.environ['PLANSYNC_KEEP_SCREENSHOT']}-{width}.png")
