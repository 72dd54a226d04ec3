"""What an imported plan must hold, as written in a fixture's `NAME.expected.yaml` (data/sources/layouts
/README.md): the differences between the two, one line each, so that a failing test shows them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LAYOUTS = Path(__file__).resolve().parents[2] / "data" / "sources" / "layouts"


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((LAYOUTS / f"{name}.expected.yaml").read_text(encoding="utf-8"))
    return data


def _event_view(
    event: dict[str, Any], names: dict[str, str], headings: dict[str, str | None]
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "section": headings.get(event.get("section", "")),
        "number": None if event.get("number") is None else str(event["number"]),
        "title": event["title"],
        "date": str(event["date"]),
        "date_known": event.get("date_known", True),
        "organizers": [names[o] for o in event["organizers"]],
        "contact": event.get("contact"),
    }
    return view


def differences(plan: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Every difference of the plan from the expectation (empty when it holds all of it)."""
    out: list[str] = []
    if plan["plan"]["title"] != want["title"]:
        out.append(f"title: {plan['plan']['title']!r} != {want['title']!r}")
    names = {o["id"]: o["name"] for o in plan["organizations"]}
    headings = {s["id"]: s.get("title") for s in plan.get("sections") or []}
    got = [_event_view(e, names, headings) for e in plan["events"]]
    wanted = want["events"]
    if len(got) != len(wanted):
        out.append(f"{len(got)} events != {len(wanted)}: {[g['title'] for g in got]}")
    for index, (have, need) in enumerate(zip(got, wanted, strict=False)):
        for key, written in need.items():
            value = str(written) if key == "number" else written
            if have.get(key) != value:
                out.append(f"event {index + 1} ({need['title']!r}) {key}: {have.get(key)!r} != {value!r}")
        if "contact" not in need and have["contact"] is not None:
            out.append(f"event {index + 1} ({need['title']!r}) contact: {have['contact']!r} != None")
        if "date_known" not in need and have["date_known"] is not True:
            out.append(f"event {index + 1} ({need['title']!r}) date_known: {have['date_known']!r} != True")
    by_name = {o["name"]: o for o in plan["organizations"]}
    for name, contacts in (want.get("contacts") or {}).items():
        have_contacts = (by_name.get(name) or {}).get("contacts")
        if have_contacts != contacts:
            out.append(f"contacts of {name!r}: {have_contacts!r} != {contacts!r}")
    return out
