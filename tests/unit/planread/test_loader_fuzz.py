"""No input crashes the plan loader: every file gives a plan or a list of positioned problems."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from plansync.errors import InvalidInput
from plansync.planread.planfile import load_plan
from tests.support.plans import GOOD_PLAN

KEYS = [
    "plan",
    "id",
    "title",
    "year",
    "timezone",
    "sections",
    "organizations",
    "events",
    "key",
    "date",
    "organizers",
    "start",
    "end",
    "time",
    "rrule",
    "contacts",
    "emails",
    "phones",
    "kind",
    "name",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["15 января", "31 февраля", "2024-13-01", "14:00", "konb", "FREQ=WEEKLY"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=30,
)


def load_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.yaml"
        path.write_bytes(data)
        try:
            plan = load_plan(path)
        except InvalidInput as exc:
            assert exc.problems, "an invalid plan must say why"
            for problem in exc.problems:
                assert problem.line >= 1 and problem.col >= 1 and problem.message and problem.hint
        else:
            for event in plan.events:
                r = event.reading
                assert r.start is None or r.end is None or r.start <= r.end


@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    load_bytes(data)


@given(documents)
def test_random_yaml_structures(document: object) -> None:
    load_bytes(yaml.safe_dump(document, allow_unicode=True).encode())


@given(st.integers(0, len(GOOD_PLAN) - 1), st.text(max_size=12))
def test_edits_of_a_good_plan(position: int, insert: str) -> None:
    load_bytes((GOOD_PLAN[:position] + insert + GOOD_PLAN[position:]).encode("utf-8", "surrogatepass"))


@given(st.sampled_from(["15 января", "Вебинар", "konb"]), st.text(min_size=1, max_size=40))
def test_any_value_in_any_field(old: str, new: str) -> None:
    load_bytes(
        GOOD_PLAN.replace(old, yaml.safe_dump(new, allow_unicode=True).strip().replace("\n...", "")).encode(
            "utf-8", "surrogatepass"
        )
    )


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]" for i in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        load_plan(path)
    except InvalidInput as exc:
        assert exc.problems
    else:
        raise AssertionError("an alias bomb must not load")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("plan: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    try:
        load_plan(path)
    except InvalidInput as exc:
        assert exc.problems
    else:
        raise AssertionError("nonsense must not load")
