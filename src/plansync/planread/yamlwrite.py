"""The YAML writer of imported plans and proposals: block style, keys in the given order, short lists
on one line."""

from __future__ import annotations

import yaml

__all__ = ["Flow", "dump_yaml"]


class Flow(list[str]):
    """A short list written on one line: `organizers: [konb, gaidar]`."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, as people write them


_Dumper.add_representer(
    Flow, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def dump_yaml(data: object) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000, default_flow_style=False
    )
