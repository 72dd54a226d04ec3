"""A re-issue merged into a hand-edited plan (plansync.planread.reissue through plansync.planread.
yamledit): comments and keys kept, a person's edits kept unless the source changed that very field, a
reworded title with its number and date the same event, an override the new date contradicts reported,
and a summary whose counts are the lines above it."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from plansync.errors import InvalidInput
from plansync.planread.reissue import reissue
from plansync.planread.yamledit import ChangedMeanwhile, PlanEdit
from tests.support.paths import PLAN_2024

BASE: dict[str, Any] = yaml.safe_load(PLAN_2024.read_text(encoding="utf-8"))  # what the import wrote


def _event(document: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in document["events"] if e["key"] == key)
    return found


def _plan_in_use(tmp_path: Path, edit: str = "") -> Path:
    plan = tmp_path / "plan-2024.yaml"
    shutil.copy(PLAN_2024, plan)
    text = plan.read_text(encoding="utf-8")
    text = text.replace("  - key: dated-05\n", "  # уточнить у КОНБ\n  - key: dated-05\n", 1)
    text = text.replace(
        "    date: февраль\n    organizers: [konb]\n",
        "    date: февраль\n    organizers: [konb]  # зал заказан\n    start: 2024-02-20\n",
        1,
    )
    plan.write_text(text + edit, encoding="utf-8")
    return plan


def _reissued(**changes: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    for key, fields in changes.items():
        _event(document, key).update(fields)
    return document


def test_comments_keys_and_overrides_are_kept(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    edit = PlanEdit.load(plan)
    result = reissue(edit, _reissued(), BASE)
    edit.save()
    text = plan.read_text(encoding="utf-8")
    assert "  # уточнить у КОНБ\n  - key: dated-05\n" in text
    assert "organizers: [konb]  # зал заказан\n    start: 2024-02-20\n" in text
    assert result.lines()[-1] == "0 added, 0 removed, 0 changed, 1 with hand edits kept"
    assert (
        text == _plan_in_use(tmp_path / "again").read_text(encoding="utf-8")
        if (tmp_path / "again").mkdir() is None
        else False
    )


def test_a_hand_edited_title_stays_unless_the_source_changed_that_title(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    mine = "Вебинар «Пушкинская карта»: работа в 2024 году"
    text = plan.read_text(encoding="utf-8").replace(_event(BASE, "dated-02")["title"], f"'{mine}'", 1)
    plan.write_text(text, encoding="utf-8")
    # the source changed another field of the same event: the person's title stays
    edit = PlanEdit.load(plan)
    result = reissue(edit, _reissued(**{"dated-02": {"date": "16 января"}}), BASE)
    assert _event(result.document, "dated-02")["title"] == mine
    assert _event(result.document, "dated-02")["date"] == "16 января"
    assert ("dated-02", ["title"]) in result.kept
    # the source changed that very title: the re-issue wins, and the diff says the edit was replaced
    edit = PlanEdit.load(plan)
    new_title = "Вебинар для специалистов библиотек Калининградской области «Пушкинская карта»"
    result = reissue(edit, _reissued(**{"dated-02": {"title": new_title}}), BASE)
    assert _event(result.document, "dated-02")["title"] == new_title
    assert f"! dated-02: title: your edit «{mine}» replaced by the re-issue's «{new_title}»" in result.lines()


def test_a_hand_removed_organizer_stays_removed(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    three = "    organizers: [project-office-rgb, minculture, konb]\n"
    assert three in plan.read_text(encoding="utf-8")
    plan.write_text(
        plan.read_text(encoding="utf-8").replace(three, "    organizers: [konb]\n", 1), encoding="utf-8"
    )
    key = next(
        e["key"] for e in BASE["events"] if e["organizers"] == ["project-office-rgb", "minculture", "konb"]
    )
    result = reissue(PlanEdit.load(plan), _reissued(), BASE)
    assert _event(result.document, key)["organizers"] == ["konb"]
    assert (key, ["organizers"]) in result.kept
    # without a record of the last import the re-issue's organizers are taken, and the diff shows it
    result = reissue(PlanEdit.load(plan), _reissued(), None)
    assert _event(result.document, key)["organizers"] == ["project-office-rgb", "minculture", "konb"]
    assert any(line.startswith(f"~ {key}: organizers:") for line in result.lines())


def test_a_reworded_title_with_its_number_and_date_is_the_same_event(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    reworded = "Заседание совета руководителей библиотек области"
    result = reissue(PlanEdit.load(plan), _reissued(**{"dated-05": {"title": reworded}}), BASE)
    assert not result.added and not result.removed
    event = _event(result.document, "dated-05")
    assert event["title"] == reworded and str(event["start"]) == "2024-02-20"


def test_an_override_the_new_date_contradicts_is_reported(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    edit = PlanEdit.load(plan)
    result = reissue(edit, _reissued(**{"dated-05": {"date": "декабрь"}}), BASE)
    line = edit.line_of("dated-05", "start")
    assert result.conflicts == [
        (
            "dated-05",
            line,
            "start: 2024-02-20 is outside the date «декабрь» (2024-12-01 … 2024-12-31); the published date "
            "changed since the override was written — correct `start:` or remove it",
        )
    ]
    assert result.lines()[-1] == "0 added, 0 removed, 1 changed, 1 with hand edits kept, 1 overrides to check"


def test_the_summary_counts_the_lines_above_it(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    document = _reissued(**{"dated-02": {"date": "16 января"}, "dated-13": {"date": "25 мая"}})
    document["events"] = [e for e in document["events"] if e["key"] != "dated-03"]
    document["events"].append(
        {**_event(BASE, "dated-04"), "key": "dated-26", "number": 26, "title": "Круглый стол «Итоги года»"}
    )
    result = reissue(PlanEdit.load(plan), document, BASE)
    lines = result.lines()
    summary = lines[-1]
    added, removed = (
        sum(line.startswith("+ ") for line in lines),
        sum(line.startswith("- ") for line in lines),
    )
    changed = len({line.split(":")[0] for line in lines if line.startswith("~ ")})
    kept = sum(line.startswith("= ") for line in lines)
    assert summary.startswith(
        f"{added} added, {removed} removed, {changed} changed, {kept} with hand edits kept"
    )
    assert summary == "1 added, 1 removed, 2 changed, 1 with hand edits kept"


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    edit = PlanEdit.load(plan)
    edit.set("dated-05", "notes", "Зал на 2-м этаже")
    plan.write_text(plan.read_text(encoding="utf-8") + "\n# someone else's line\n", encoding="utf-8")
    before = plan.read_bytes()
    with pytest.raises(ChangedMeanwhile):
        edit.save()
    assert plan.read_bytes() == before


def test_an_edit_that_breaks_the_plan_is_not_written(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    before = plan.read_bytes()
    edit = PlanEdit.load(plan)
    edit.set("dated-05", "start", "2024-02-31")
    with pytest.raises(InvalidInput) as info:
        edit.save()
    assert info.value.problems[0].file == str(plan)
    assert plan.read_bytes() == before


def test_set_puts_a_new_field_where_the_format_lists_it(tmp_path: Path) -> None:
    plan = _plan_in_use(tmp_path)
    edit = PlanEdit.load(plan)
    edit.set("dated-13", "start", "2024-05-24")
    edit.set("dated-13", "contact", "Смирнова Е.А.")
    edit.save()
    event = PlanEdit.load(plan).event("dated-13")
    assert list(event) == [
        "key",
        "section",
        "number",
        "form",
        "title",
        "date",
        "organizers",
        "contact",
        "start",
    ]
