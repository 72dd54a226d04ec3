"""The key and environment-variable tables of docs/configuration.md, written from the schema.

`python -m plansync.config.docs docs/configuration.md` rewrites the generated parts of that file
in place (between the BEGIN/END markers); a unit test fails when they are out of date.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

from plansync.config.schema import CONFIG_ENV, KEYS, Key

BEGIN = "<!-- BEGIN {} (generated from src/plansync/config/schema.py: python -m plansync.config.docs) -->"
END = "<!-- END {} -->"


def _shown(key: Key) -> str:
    if key.shown is not None:
        return key.shown
    value = key.default
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{value:g}`"
    if isinstance(value, dt.timedelta):
        return f"`{int(value.total_seconds() // 60)}m`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def key_table() -> str:
    rows = ["| key | type | default | environment | meaning |", "|---|---|---|---|---|"]
    for key in KEYS:
        env = f"`{key.env}`" if key.env else ""
        cells = [f"`{key.name}`", _cell(key.kind.type_name), _cell(_shown(key)), env, _cell(key.help)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def env_table() -> str:
    rows = ["| variable | overrides |", "|---|---|", f"| `{CONFIG_ENV}` | which config file |"]
    for key in KEYS:
        if key.env:
            what = key.env_help if key.env.endswith("_PASSWORD") else f"`{key.name}`"
            if key.env_help and not key.env.endswith("_PASSWORD"):
                what += f", and {key.env_help}"
            rows.append(f"| `{key.env}` | {_cell(what)} |")
    return "\n".join(rows)


SECTIONS = {"keys": key_table, "environment": env_table}


def rewrite(text: str) -> str:
    """`text` with every generated section replaced by its current contents."""
    for name, render in SECTIONS.items():
        pattern = re.compile(re.escape(BEGIN.format(name)) + r".*?" + re.escape(END.format(name)), re.DOTALL)
        match = pattern.search(text)
        if match is None:
            raise ValueError(f"the marker {BEGIN.format(name)} is missing")
        block = f"{BEGIN.format(name)}\n{render()}\n{END.format(name)}"
        text = text[: match.start()] + block + text[match.end() :]
    return text


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m plansync.config.docs docs/configuration.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
