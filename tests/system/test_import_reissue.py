"""A re-issued plan merged with `plansync import NEW --into PLAN.yaml`: three events edited, one added,
one removed; every other key and every hand edit is kept, and the diff is printed before writing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.paths import PLAN_2024, REPO, SEED

REGISTRY = REPO / "data" / "organizations.yaml"


def _corrected_source(tmp_path: Path) -> Path:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    january = lines.index("Январь")
    out: list[str] = []
    for index, original in enumerate(lines):
        line = original
        if index > january and line.startswith("3.\tОбластной детский литературно-театральный конкурс"):
            continue  # removed: every later row of the section is renumbered
        number, tab, rest = line.partition(".\t")
        if index > january and tab and number.isdigit() and int(number) > 3:
            line = f"{int(number) - 1}.\t{rest}"
        line = line.replace(
            "Вебинар для специалистов библиотек области «Работа",
            "Вебинар для специалистов библиотек Калининградской области «Работа",
        )  # a title edited
        if line.startswith("4.\tСовет директоров"):
            line = line.replace("\tфевраль\t", "\tмарт\t")  # a date edited
        if line.startswith("22.\tРегиональный социологический опрос"):
            parts = line.split("\t")
            line = "\t".join(
                [*parts[:3], "ГБУК «Калининградская областная научная библиотека»"]
            )  # organizers
        out.append(line)
    last = max(i for i, line in enumerate(out) if line.startswith("24.\t"))
    out.insert(
        last + 1,
        "25.\tКруглый стол «Итоги года»\t20 декабря\tГБУК «Калининградская областная научная библиотека»",
    )
    source = tmp_path / "plan-2024-corrected.txt"
    source.write_text("\n".join(out) + "\n", encoding="utf-8")
    return source


def _hand_edited(tmp_path: Path) -> Path:
    plan = tmp_path / "plan-2024.yaml"
    shutil.copy(PLAN_2024, plan)
    text = plan.read_text(encoding="utf-8")
    text = text.replace(
        "    date: февраль\n    organizers: [konb]\n",
        "    date: февраль\n    organizers: [konb]\n    start: 2024-02-20\n",
        1,
    )
    text = text.replace("    date: 24 мая\n", "    date: 24 мая\n    notes: Зал на 2-м этаже\n", 1)
    plan.write_text(text, encoding="utf-8")
    return plan


def _events(path: Path) -> dict[str, dict[str, object]]:
    return {e["key"]: e for e in yaml.safe_load(path.read_text(encoding="utf-8"))["events"]}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansync", "import", *args, "--registry", str(REGISTRY)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_reissue_keeps_keys_and_hand_edits_and_prints_the_diff(tmp_path: Path) -> None:
    plan = _hand_edited(tmp_path)
    before = _events(plan)
    assert before["dated-05"]["start"] is not None and before["dated-13"]["notes"] == "Зал на 2-м этаже"
    source = _corrected_source(tmp_path)
    dry = _run(str(source), "--year", "2024", "--into", str(plan), "--dry-run")
    assert dry.returncode == 4, dry.stderr  # the override of dated-05 is to check: see below
    assert plan.read_text(encoding="utf-8") == (tmp_path / "plan-2024.yaml").read_text(encoding="utf-8")
    assert _events(plan) == before  # --dry-run writes nothing
    result = _run(str(source), "--year", "2024", "--into", str(plan))
    assert result.returncode == 4, result.stderr
    assert result.stdout == dry.stdout
    lines = result.stdout.splitlines()
    assert "+ dated-25-2: Круглый стол «Итоги года» (20 декабря)" in lines
    assert any(
        line.startswith("- dated-03: Областной детский литературно-театральный конкурс") for line in lines
    )
    changed = {line.split(":")[0] for line in lines if line.startswith("~ ")}
    assert changed == {"~ dated-02", "~ dated-05", "~ dated-23"}
    assert "~ dated-05: date: «февраль» → «март»" in lines
    # the hand override `start: 2024-02-20` is outside the re-issued date «март»: kept, and reported
    assert any(
        line.startswith("! dated-05 (line ") and "start: 2024-02-20 is outside the date «март»" in line
        for line in lines
    )
    assert (
        "1 added, 1 removed, 3 changed, 2 with hand edits kept, 1 overrides to check, 22 renumbered" in lines
    )
    after = _events(plan)
    assert set(after) == (set(before) - {"dated-03"}) | {"dated-25-2"}
    for key in set(before) - {"dated-03", "dated-02", "dated-05", "dated-23"}:
        unchanged = {k: v for k, v in before[key].items() if k != "number"}
        assert {k: v for k, v in after[key].items() if k != "number"} == unchanged, key
    assert str(after["dated-05"]["start"]) == "2024-02-20" and after["dated-05"]["date"] == "март"
    assert after["dated-13"]["notes"] == "Зал на 2-м этаже"
    assert after["dated-04"]["number"] == 3  # renumbered, key kept
    check = subprocess.run(
        [sys.executable, "-m", "plansync", "validate", str(plan)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_importing_the_same_plan_again_changes_nothing(tmp_path: Path) -> None:
    plan = _hand_edited(tmp_path)
    before = _events(plan)
    result = _run(str(SEED), "--year", "2024", "--into", str(plan))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 added, 0 removed, 0 changed, 2 with hand edits kept"
    assert _events(plan) == before
    assert (tmp_path / "plan-2024.imported.yaml").is_file()  # what the import read, for the next re-issue


def test_into_and_output_together_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(str(SEED), "--year", "2024", "--into", str(PLAN_2024), "-o", str(tmp_path / "x.yaml"))
    assert result.returncode == 2
    assert "not both" in result.stderr


def _validate(plan: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansync", "validate", str(plan)], capture_output=True, text=True, check=False
    )


def test_a_reissue_over_a_hand_edited_plan_keeps_comments_keys_and_edits(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    first = _run(str(SEED), "--year", "2024", "-o", str(plan))
    assert first.returncode == 0, first.stderr  # the 2024 plan has nothing to look at
    assert (tmp_path / "plan.imported.yaml").is_file()
    # a person edits: a comment, a shorter title, an organizer removed, an exact day
    text = plan.read_text(encoding="utf-8")
    title_02 = _events(plan)["dated-02"]["title"]
    mine = "Вебинар о «Пушкинской карте» для библиотек области"
    text = text.replace("  - key: dated-02\n", "  # перенесли в зал 2\n  - key: dated-02\n", 1)
    text = text.replace(f"    title: {title_02}\n", f"    title: {mine}\n", 1)
    text = text.replace(
        "    organizers: [project-office-rgb, minculture, konb]\n", "    organizers: [konb]\n", 1
    )
    text = text.replace(
        "    date: февраль\n    organizers: [konb]\n",
        "    date: февраль\n    organizers: [konb]\n    start: 2024-02-20\n",
        1,
    )
    plan.write_text(text, encoding="utf-8")
    # the re-issue changes the date of dated-02 (not its title) and the month of dated-05
    lines = SEED.read_text(encoding="utf-8").replace("\t15 января\t", "\t16 января\t", 1)
    lines = lines.replace(
        "\tфевраль\tГБУК «Калининградская областная научная библиотека»",
        "\tдекабрь\tГБУК «Калининградская областная научная библиотека»",
        1,
    )
    source = tmp_path / "reissue.txt"
    source.write_text(lines, encoding="utf-8")
    result = _run(str(source), "--year", "2024", "--into", str(plan))
    assert result.returncode == 4, result.stderr  # an override to check
    out = plan.read_text(encoding="utf-8")
    assert "  # перенесли в зал 2\n  - key: dated-02\n" in out
    after = _events(plan)
    assert after["dated-02"]["title"] == mine and after["dated-02"]["date"] == "16 января"
    assert after["year-round-01"]["organizers"] == ["konb"]
    assert str(after["dated-05"]["start"]) == "2024-02-20" and after["dated-05"]["date"] == "декабрь"
    assert "= dated-02: kept title" in result.stdout.splitlines()
    # `validate` passes, and warns about the override the new date contradicts, with its position
    check = _validate(plan)
    assert check.returncode == 0, check.stdout + check.stderr
    line = out.splitlines().index("    start: 2024-02-20") + 1
    assert f"{plan}:{line}:12: warning: events[" in check.stderr
    assert "2024-02-20 is outside the date «декабрь»" in check.stderr
    # a re-issue that changes the very title the person edited: the re-issue wins, and says so
    theirs = "Вебинар «Пушкинская карта: итоги года»"
    source.write_text(lines.replace(title_02, theirs, 1), encoding="utf-8")
    again = _run(str(source), "--year", "2024", "--into", str(plan))
    assert f"! dated-02: title: your edit «{mine}» replaced by the re-issue's «{theirs}»" in again.stdout
    assert _events(plan)["dated-02"]["title"] == theirs


def test_the_exit_status_says_whether_there_is_anything_to_look_at(tmp_path: Path) -> None:
    layouts = REPO / "data" / "sources" / "layouts"
    result = _run(str(layouts / "sevlib-2025.docx"), "--year", "2025", "-o", str(tmp_path / "sevlib.yaml"))
    assert result.returncode == 4
    assert "1 dates that cannot be read (kept as text, `date_known: false`):" in result.stderr
    assert "  row 11 (№ 2.5): «после 20 ноября»:" in result.stderr
    assert (tmp_path / "sevlib.yaml").is_file() and _validate(tmp_path / "sevlib.yaml").returncode == 0
