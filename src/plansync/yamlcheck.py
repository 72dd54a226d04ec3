"""Read hand-edited YAML files with the exact position of every value, and collect problems.

PyYAML's constructors lose line numbers and silently keep the last of two duplicate keys, so we
compose the node tree (which keeps both and knows where each node starts) and read values from
it ourselves. The same checker serves the plan and the config, so both give the same
`file:line:col: field: problem — fix` messages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from plansync.errors import Problem

# A plan of 10,000 events is 3 MB; anything far larger is a mistake (or an attack). The composed
# tree takes ~100 bytes of memory per byte of YAML, so this also bounds memory (under 1 GB).
MAX_FILE_BYTES = 8 * 1024 * 1024
# Past this many problems the file is not a plan with typos but something else: stop and say so.
MAX_PROBLEMS = 500

T = TypeVar("T")
_STR_TAG = "tag:yaml.org,2002:str"
# Control characters that have no business in a plan (tabs and line breaks are fine).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
_KIND_TAGS = {
    yaml.ScalarNode: _STR_TAG,
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


class _TextResolver(BaseResolver):
    """Take every scalar as text.

    The checker reads numbers, booleans and nulls from the text itself (so that `date: 12.03` stays
    the text «12.03»), which makes PyYAML's implicit typing of every scalar wasted work: skipping it
    is a quarter of the load time of a big plan.
    """

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        return _KIND_TAGS[kind]

    # Path-based resolvers are not used either; the composer calls these for every node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _TextLoader(CParser, _TextResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _TextResolver.__init__(self)

else:  # PyYAML built without libyaml: the same, in pure Python (about five times slower)

    class _TextLoader(Reader, Scanner, Parser, Composer, _TextResolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _TextResolver.__init__(self)


def is_null(node: yaml.Node) -> bool:
    """An empty value: `key:`, `key: ~` or `key: null`, unquoted."""
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value in _NULL_WORDS


_INT_RE = re.compile(r"[+-]?[0-9]+")


class TooManyProblems(Exception):
    """Raised inside a reader when the problem list is full; caught by `Checker.guarded`."""


@dataclass(frozen=True)
class Entry:
    """One `key: value` of a mapping, with both nodes for positions."""

    key: str
    key_node: yaml.Node
    value: yaml.Node


class Checker:
    """Walks a composed YAML document and records every problem it meets.

    Each reader method returns the value, or None when the value is unusable (the problem has been
    recorded), so callers can keep going and report everything in one run.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._seen: set[int] = set()

    # -- problems -------------------------------------------------------------------------------

    def error(self, node: yaml.Node | None, field: str, message: str, hint: str) -> None:
        line, col = position(node)
        self.problems.append(Problem(self.file, line, col, field, message, hint))
        if len(self.problems) >= MAX_PROBLEMS:
            self.file_error(
                line,
                col,
                f"stopped after {MAX_PROBLEMS} problems",
                "fix these first, or check that this is the right file",
            )
            raise TooManyProblems

    def file_error(self, line: int, col: int, message: str, hint: str) -> None:
        """A problem with the document as a whole (encoding, syntax, size), not with one field."""
        self.problems.append(Problem(self.file, line, col, "(file)", message, hint))

    def guarded(self, read: Callable[[], T]) -> T | None:
        """Run a reader; None when it gave up after too many problems (they are recorded)."""
        try:
            return read()
        except TooManyProblems:
            return None

    # -- documents ------------------------------------------------------------------------------

    def compose_bytes(self, data: bytes) -> yaml.Node | None:
        """Parse the raw file; report encoding and syntax errors with their position."""
        if len(data) > MAX_FILE_BYTES:
            self.file_error(
                1,
                1,
                f"the file is {len(data)} bytes, more than the {MAX_FILE_BYTES} a plan may have",
                "split it or check that this is the right file",
            )
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            self.file_error(
                line,
                col,
                f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                "save the file as UTF-8 (without a byte-order mark)",
            )
            return None
        text = text.removeprefix("\ufeff")
        try:
            node: yaml.Node | None = yaml.compose(text, Loader=_TextLoader)  # type: ignore[arg-type]
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            what = exc.problem or exc.context or "malformed YAML"
            self.file_error(
                line,
                col,
                f"not valid YAML: {what}",
                "check indentation, colons and quotes on this line and the one above",
            )
            return None
        except yaml.YAMLError as exc:  # e.g. a reader error for control characters
            self.file_error(1, 1, f"not valid YAML: {exc}", "remove control characters")
            return None
        except RecursionError:
            self.file_error(1, 1, "the YAML is nested too deeply", "flatten the document")
            return None
        if node is None:
            self.file_error(1, 1, "the file is empty", "see docs/plan-format.md")
        return node

    # -- typed readers --------------------------------------------------------------------------

    def _visit(self, node: yaml.Node, field: str) -> bool:
        """Refuse aliases: a node reached twice is an alias (and the seed of an alias bomb)."""
        if id(node) in self._seen:
            self.error(
                node,
                field,
                "YAML anchors and aliases (&name, *name) are not supported",
                "write the value out in full",
            )
            return False
        self._seen.add(id(node))
        return True

    def mapping(
        self,
        node: yaml.Node,
        field: str,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> dict[str, Entry] | None:
        """Read a mapping: string keys only, no duplicates, no unknown keys, all required keys."""
        if not isinstance(node, yaml.MappingNode):
            self.error(
                node,
                field,
                f"expected a mapping (key: value lines), found {describe(node)}",
                f"write {field} as indented `key: value` lines",
            )
            return None
        if not self._visit(node, field):
            return None
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or is_null(key_node):
                self.error(
                    key_node,
                    field,
                    f"a key must be a plain word, found {describe(key_node)}",
                    "use one of: " + ", ".join(allowed),
                )
                continue
            key = key_node.value
            where = join(field, key)
            if key in entries:
                first_line, _ = position(entries[key].key_node)
                self.error(
                    key_node,
                    where,
                    f"duplicate key '{key}' (first given on line {first_line})",
                    "keep only one of them",
                )
                continue
            if key not in allowed:
                self.error(key_node, where, f"unknown field '{key}'", suggest(key, allowed))
                continue
            entries[key] = Entry(key, key_node, value_node)
        for key in required:
            if key not in entries:
                self.error(
                    node,
                    join(field, key),
                    f"required field '{key}' is missing",
                    f"add `{key}:` to {field or 'the top level'}",
                )
        return entries

    def sequence(self, node: yaml.Node, field: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(
                node,
                field,
                f"expected a list, found {describe(node)}",
                "write it as `[a, b]` or as lines starting with `- `",
            )
            return None
        if not self._visit(node, field):
            return None
        return list(node.value)

    def string(self, node: yaml.Node, field: str, *, max_length: int = 10_000) -> str | None:
        """A text value. Unquoted numbers, dates and yes/no are taken as the text they show
        (`date: 12.03` means the text «12.03», not the number 12.03)."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(
                node,
                field,
                f"expected a text, found {describe(node)}",
                "write the value on the same line after the colon",
            )
            return None
        value: str = node.value
        if not node.style and value in _NULL_WORDS:
            self.error(node, field, "the value is empty", "write a value after the colon, or remove the line")
            return None
        if not value.strip():
            self.error(node, field, "the value is empty", "write a value, or remove the line")
            return None
        if len(value) > max_length:
            self.error(
                node, field, f"the text is {len(value)} characters long, more than {max_length}", "shorten it"
            )
            return None
        if _CONTROL_RE.search(value):
            self.error(node, field, "the text contains control characters", "delete them")
            return None
        return value

    def integer(self, node: yaml.Node, field: str, low: int, high: int) -> int | None:
        if not isinstance(node, yaml.ScalarNode) or not _INT_RE.fullmatch(str(node.value).strip()):
            self.error(
                node,
                field,
                f"expected a whole number, found {describe(node)}",
                f"write a number from {low} to {high}",
            )
            return None
        text = str(node.value).strip()
        # Compare the digits' count first: int() refuses numbers of thousands of digits.
        value = int(text) if len(text.lstrip("+-0")) <= 20 else None
        if value is None or not low <= value <= high:
            shown = text if len(text) <= 20 else f"{text[:17]}..."
            self.error(node, field, f"{shown} is out of range", f"write a number from {low} to {high}")
            return None
        return value

    def boolean(self, node: yaml.Node, field: str) -> bool | None:
        text = str(node.value).lower() if isinstance(node, yaml.ScalarNode) else None
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off"):
            return False
        self.error(node, field, f"expected true or false, found {describe(node)}", "write true or false")
        return None

    def string_list(self, node: yaml.Node, field: str) -> list[tuple[str, yaml.Node]] | None:
        """A list of texts, each with its node (for positions of later checks)."""
        items = self.sequence(node, field)
        if items is None:
            return None
        out: list[tuple[str, yaml.Node]] = []
        for index, item in enumerate(items):
            value = self.string(item, f"{field}[{index}]")
            if value is not None:
                out.append((value, item))
        return out


# -- helpers --------------------------------------------------------------------------------------


def read_file(path: Path, checker: Checker) -> yaml.Node | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        checker.file_error(
            1, 1, f"cannot read the file: {exc.strerror}", "check the path and its permissions"
        )
        return None
    return checker.compose_bytes(data)


def position(node: yaml.Node | None) -> tuple[int, int]:
    if node is None or node.start_mark is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing"
    value = str(node.value)
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"'{shown}'"


def suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "allowed here: " + ", ".join(sorted(choices))
