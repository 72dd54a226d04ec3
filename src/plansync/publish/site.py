"""The whole site in memory: plans → {path inside the site: bytes}. Pure (templates are read once).

index.html lists every event by month; org-<id>.html and form-<hash>.html are the same agenda filtered
(plain pages, so the filters work without JavaScript); feeds/ holds the .ics feeds (`feeds.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from plansync.calendar import ical
from plansync.errors import PlansyncError
from plansync.model.plan import Event, Plan
from plansync.publish import agenda
from plansync.publish.feeds import Feed, build_feeds
from plansync.util.shipped import shipped_templates
from plansync.wording import russian

TEMPLATE = "publish_agenda.html.j2"
MACROS = "publish_macros.html.j2"

DEFAULT_RENDERING = ical.Rendering()


@dataclass(frozen=True)
class FeedLink:
    name: str
    url: str
    events_text: str


@dataclass(frozen=True)
class Site:
    files: dict[str, bytes]
    feeds: tuple[Feed, ...]
    pages: tuple[str, ...]


def _events_word(n: int) -> str:
    """«1 мероприятие», «3 мероприятия», «5 мероприятий»."""
    if n % 10 == 1 and n % 100 != 11:
        word = "мероприятие"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "мероприятия"
    else:
        word = "мероприятий"
    return f"{n} {word}"


def _tel(phone: str) -> str:
    """A tel: URI from a printed number: «8(4012) 93-70-21» → +74012937021."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    return digits


def feed_url(base_url: str | None, path: str) -> str:
    """Absolute when `publish.base_url` is set (subscribing needs a full address), else relative."""
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


class SiteBuilder:
    def __init__(self, templates: Path | None = None) -> None:
        folders = [str(templates)] if templates is not None else []
        folders.append(str(shipped_templates()))
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=False,
        )
        env.filters["tel"] = _tel
        try:
            self.template = env.get_template(TEMPLATE)
            self.macros = env.get_template(MACROS)
        except jinja2.TemplateError as exc:
            raise PlansyncError(f"site template {TEMPLATE}: {exc}; fix the template") from exc

    def build(
        self,
        plans: Sequence[Plan],
        *,
        stamp: dt.datetime,
        base_url: str | None = None,
        rendering: ical.Rendering = DEFAULT_RENDERING,
    ) -> Site:
        """`stamp` is when the plans last changed: the feeds' DTSTAMP and the page's date, so the same
        plans give the same bytes (and the same ETags)."""
        feeds, files = build_feeds(plans, rendering, stamp=stamp)
        entries = [(plan, event) for plan in plans for event in plan.events]
        # Rows are rendered once; the index and the filter pages put the same markup together.
        row = self.macros.module.row  # type: ignore[attr-defined]
        html_rows = {id(e): row(self._row(agenda.row_of(p, e))) for p, e in entries}
        directory = agenda.organizers(plans)
        names = {o.id: o for o in directory}
        form_filters = agenda.forms(plans)
        common = {
            "subtitle": "Сводный план мероприятий для библиотек",
            "updated": russian.day(stamp.date(), year=True),
            "organizer_filters": [
                agenda.Filter(o.short_name, agenda.organizer_page(o.id), o.events) for o in directory
            ],
            "form_filters": form_filters,
            "footer": "Календари и эта страница составлены автоматически по плану: "
            + ", ".join(f"«{p.title}»" for p in plans)
            + ". Уточнения — у организаторов (контакты выше).",
        }
        heading = plans[0].title if len(plans) == 1 else "Планы мероприятий"
        all_links = [self._link(f, base_url) for f in feeds]

        def page(
            current: str, chosen: list[tuple[Plan, Event]], title: str, note: str, links: list[FeedLink]
        ) -> bytes:
            long_rows, months = agenda.sections(chosen)
            ids = {o for _, e in chosen for o in e.organizers}
            text = self.template.render(
                **common,
                current=current,
                page_title=title,
                heading=title,
                filter_note=note,
                total=_events_word(len(chosen)),
                long_rows=[html_rows[id(e)] for e in long_rows],
                months=[
                    {"id": m.id, "label": m.label, "rows": [html_rows[id(e)] for e in m.events]}
                    for m in months
                ],
                feeds=links,
                head_feeds=links[:1],  # for feed discovery; text browsers list each one
                directory=[self._org(o) for o in directory if o.id in ids],
            )
            return text.encode("utf-8")

        pages = ["index.html"]
        files["index.html"] = page("index.html", entries, heading, "", all_links)
        for org in directory:
            name = agenda.organizer_page(org.id)
            chosen = [(p, e) for p, e in entries if org.id in e.organizers]
            mine = [f for f in feeds if f.organizer in (org.id, None)]  # theirs, then the whole plan's
            links = [self._link(f, base_url) for f in sorted(mine, key=lambda f: f.organizer is None)]
            note = f"Показаны только мероприятия организатора: {names[org.id].name}."
            files[name] = page(name, chosen, f"{heading}: {org.short_name}", note, links)
            pages.append(name)
        for form in form_filters:
            chosen = [(p, e) for p, e in entries if e.form and agenda.form_page(e.form) == form.page]
            note = f"Показаны только мероприятия в форме «{form.label}»."
            files[form.page] = page(form.page, chosen, f"{heading}: {form.label}", note, all_links)
            pages.append(form.page)
        return Site(files, tuple(feeds), tuple(pages))

    @staticmethod
    def _link(feed: Feed, base_url: str | None) -> FeedLink:
        return FeedLink(feed.name, feed_url(base_url, feed.path), _events_word(feed.events))

    @staticmethod
    def _row(row: agenda.Row) -> dict[str, object]:
        return {
            **row.__dict__,
            "organizers": [
                {"page": agenda.organizer_page(o.id), "name": o.name, "short_name": o.short_name}
                for o in row.organizers
            ],
        }

    @staticmethod
    def _org(org: agenda.Organizer) -> dict[str, object]:
        return {**org.__dict__, "page": agenda.organizer_page(org.id)}
