"""The config `plansync init` writes, generated from the schema: every key in its section with its help,
its environment variable and its default (commented out), as Radicale's shipped config does.

The checkout's config/plansync.yaml is the same text with the checkout's paths (`CHECKOUT`; a unit test
keeps the file equal to it: `python -m plansync.config.starter config/plansync.yaml` rewrites it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plansync.config.kinds import Refused
from plansync.config.model import WEEKDAYS
from plansync.config.schema import KEYS, SECTION_HELP, SECTIONS, Key

WIDTH = 100
# Addresses that cannot receive mail (RFC 2606): whoever forgets to change one sends nothing anywhere.
PLACEHOLDER_FROM = "Сводный план <plan@example.org>"
PLACEHOLDER_REPLY_TO = "Координатор <coordinator@example.org>"
SYSTEM_STATE = "/var/lib/plansync"  # the units' StateDirectory=
HEADER = (
    "plansync configuration.\n\n"
    "Every key is below with what it does. A key written out is set; a key after `#` shows its default "
    "(or an example): remove the `# ` to set it. Relative paths are relative to this file's folder. "
    "Environment variables, named beside their keys, beat this file. Passwords never go here. The full "
    "documentation (configuration.md, servers.md, install.md): `plansync --help` says where it is."
)
# A plain YAML scalar that needs no quotes; anything else is written as a JSON string (valid YAML).
_PLAIN = re.compile(r"[A-Za-z0-9_/.~$<>-][A-Za-z0-9_/.~$<>@ -]*")


@dataclass(frozen=True)
class Starter:
    """What a starter config sets; every other key is shown commented out."""

    plans: Sequence[str]
    state_dir: str = "state"  # beside the config: each folder `init` makes keeps its own state
    extra: Mapping[str, object] = field(default_factory=dict)  # further keys set, by dotted name

    def values(self) -> dict[str, object]:
        return {
            "plans": list(self.plans),
            "state_dir": self.state_dir,
            "caldav.url": "embedded",
            "mail.transport": "outbox",
            "mail.from": PLACEHOLDER_FROM,
            "mail.reply_to": PLACEHOLDER_REPLY_TO,
            **self.extra,
        }


# The checkout's own config/plansync.yaml (`scripts/run`): its plan, state and outbox beside the checkout.
CHECKOUT = Starter(("../data/plan-2024.yaml",), "../state", {"mail.outbox": "../outbox"})


def starter_config(plan: str, *, system: bool = False) -> str:
    """A starter plansync.yaml whose plan is the file `plan` next to it, with its state in `state/`
    beside it, or (`system`) in /var/lib/plansync, where the systemd units keep it."""
    return render(Starter((plan,), SYSTEM_STATE if system else "state"))


def render(starter: Starter) -> str:
    values = starter.values()
    lines = _comment(HEADER, "")
    for section in SECTIONS:
        lines += _section(section, values)
    return "\n".join(lines).rstrip() + "\n"


def _section(section: str, values: Mapping[str, object]) -> list[str]:
    depth = section.count(".") + 1 if section else 0
    keys = [k for k in KEYS if k.section == section and not k.help.startswith("the older name")]
    out: list[str] = []
    written = not section or any(name.startswith(section + ".") for name in values)
    if section:
        lead = "  " * (depth - 1)
        out += ["", *_comment(SECTION_HELP.get(section, ""), lead)]
        out.append(f"{lead}{'' if written else '# '}{section.rpartition('.')[2]}:")
    for n, key in enumerate(keys):
        lines = _key(key, values, "  " * depth, set_here=written and key.name in values)
        out += lines[1:] if section and n == 0 else lines  # the first right below its section's name
    return out


def _key(key: Key, values: Mapping[str, object], indent: str, *, set_here: bool) -> list[str]:
    words = key.help + (f" (environment: {key.env})" if key.env else "")
    if key.shown and not key.required and (key.default is None or key.example is not None):
        words += f"; default: {key.shown.replace('`', '')}"
    if isinstance(key.kind, Refused):  # no line of its own to uncomment: say which key it is
        return ["", *_comment(f"{key.short}: {words}", indent)]
    out = ["", *_comment(words, indent)]
    shown = key.example if key.example is not None else key.default
    value = values[key.name] if set_here else shown
    mark = "" if set_here else "# "
    return out + [f"{indent}{mark}{line}" for line in _yaml(key.short, value)]


def _yaml(name: str, value: object) -> list[str]:
    """`name: value` as YAML lines (a list or a mapping below the name)."""
    if isinstance(value, list):
        return [f"{name}:", *(f"  - {_scalar(item)}" for item in value)]
    if isinstance(value, dict):  # an example mapping, its values already YAML
        return [f"{name}:", *(f"  {k}: {v}" for k, v in value.items())]
    return [f"{name}: {_scalar(value)}".rstrip()]


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, tuple):  # the weekly schedule: (weekday, time)
        weekday, time = value
        return f"{WEEKDAYS[weekday]} {time:%H:%M}"
    text = str(value)
    return (
        text
        if _PLAIN.fullmatch(text) and text.lower() not in ("true", "false", "null")
        else json.dumps(text, ensure_ascii=False)
    )


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s" if seconds else "0"


def _comment(text: str, indent: str) -> list[str]:
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        if out:
            out.append(f"{indent}#")
        wrapped = textwrap.wrap(
            paragraph, WIDTH - len(indent) - 2, break_on_hyphens=False, break_long_words=False
        )
        out += [f"{indent}# {line}" for line in wrapped]
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m plansync.config.starter config/plansync.yaml", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(CHECKOUT), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
