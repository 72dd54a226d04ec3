"""Read hand-edited YAML files with the exact position of every value, and collect problems.

PyYAML's constructors lose line numbers and silently keep the last of two duplicate keys, so we
build our own small tree from the parser's events (it keeps both keys and knows where each value
starts) and read values from it ourselves. The same checker serves the plan and the config, so both
give the same `file:line:col: field: problem — fix` messages.

The tree is ours rather than PyYAML's composed nodes because of memory: PyYAML gives every node a
`__dict__`, a tag and two `Mark` objects, several times the memory of these slotted nodes with
shared short texts. Every
scalar stays text, aliases are kept as what they are (a reference, refused by every reader, so an
alias bomb is never expanded) and tags are ignored.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml import events as ev

from plansync.errors import Problem

# A plan of 10,000 events is a few megabytes; anything far larger is a mistake (or an attack). The
# tree's memory is proportionate to the file (tests/system/test_hostile_input.py holds it), so this
# also bounds memory.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Past this many problems the file is not a plan with typos but something else: stop and say so.
MAX_PROBLEMS = 500
# Texts this short (keys, ids, organizer lists' items) repeat thousands of times: keep one copy.
_SHARED_TEXT_LENGTH = 24

T = TypeVar("T")
# Control characters that have no business in a plan (tabs and line breaks are fine).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})

if yaml.__with_libyaml__:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
else:  # PyYAML built without libyaml: the same events, in pure Python (about five times slower)
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


# -- the tree -------------------------------------------------------------------------------------


class Node:
    """A value of the document and where it starts (1-based line and column)."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


class ScalarNode(Node):
    """A text value; `plain` when written without quotes or block markers (`~` then means null)."""

    __slots__ = ("plain", "value")

    def __init__(self, value: str, plain: bool, line: int, column: int) -> None:
        super().__init__(line, column)
        self.value = value
        self.plain = plain


class SequenceNode(Node):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.items: list[Node] = []


class MappingNode(Node):
    """Keys and values in file order, duplicates kept (the checker reports them)."""

    __slots__ = ("flat",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        # key, value, key, value…: a list of pairs would cost a tuple per entry.
        self.flat: list[Node] = []

    def pairs(self) -> Iterator[tuple[Node, Node]]:
        it = iter(self.flat)
        return zip(it, it, strict=False)  # the parser gives every key its value


class AliasNode(Node):
    """`*name`: a reference to an anchored value, which plansync does not follow."""

    __slots__ = ()


class _NotOneDocument(Exception):
    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


def compose(text: str) -> Node | None:
    """The tree of a single-document YAML text; None when the text holds no document.

    Raises yaml.YAMLError (with marks) for syntax errors and _NotOneDocument for a stream of
    several documents.
    """
    parser = _Parser(text)
    try:
        return _build(parser.get_event)
    finally:
        if hasattr(parser, "dispose"):
            parser.dispose()


def _build(next_event: Callable[[], Any]) -> Node | None:
    shared: dict[str, str] = {}
    next_event()  # StreamStartEvent
    event = next_event()
    if isinstance(event, ev.StreamEndEvent):
        return None
    open_nodes: list[SequenceNode | MappingNode] = []
    root: Node | None = None
    while True:
        event = next_event()
        kind = type(event)
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        node: Node
        if kind is ev.ScalarEvent:
            value: str = event.value
            if len(value) <= _SHARED_TEXT_LENGTH:
                value = shared.setdefault(value, value)
            node = ScalarNode(value, not event.style, line, column)
        elif kind is ev.MappingStartEvent:
            open_nodes.append(MappingNode(line, column))
            continue
        elif kind is ev.SequenceStartEvent:
            open_nodes.append(SequenceNode(line, column))
            continue
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            node = open_nodes.pop()
        elif kind is ev.AliasEvent:
            node = AliasNode(line, column)
        else:  # DocumentEndEvent: the parser has checked that every collection was closed
            break
        if not open_nodes:
            root = node
        else:
            parent = open_nodes[-1]
            (parent.flat if isinstance(parent, MappingNode) else parent.items).append(node)
    after = next_event()
    if not isinstance(after, ev.StreamEndEvent):
        raise _NotOneDocument(after.start_mark.line + 1, after.start_mark.column + 1)
    return root


def is_null(node: Node) -> bool:
    """An empty value: `key:`, `key: ~` or `key: null`, unquoted."""
    return isinstance(node, ScalarNode) and node.plain and node.value in _NULL_WORDS


_INT_RE = re.compile(r"[+-]?[0-9]+")


class TooManyProblems(Exception):
    """Raised inside a reader when the problem list is full; caught by `Checker.guarded`."""


@dataclass(frozen=True)
class Entry:
    """One `key: value` of a mapping, with both nodes for positions."""

    key: str
    key_node: Node
    value: Node


class Checker:
    """Walks a composed YAML document and records every problem it meets.

    Each reader method returns the value, or None when the value is unusable (the problem has been
    recorded), so callers can keep going and report everything in one run.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    # -- problems -------------------------------------------------------------------------------

    def error(self, node: Node | None, field: str, message: str, hint: str) -> None:
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

    def compose_bytes(self, data: bytes) -> Node | None:
        """Parse the raw file; report encoding and syntax errors with their position."""
        if len(data) > MAX_FILE_BYTES:
            self.file_error(
                1,
                1,
                f"the file is more than the {MAX_FILE_BYTES} bytes a plan may have",
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
            node = compose(text)
        except _NotOneDocument as exc:
            self.file_error(
                exc.line,
                exc.column,
                "the file holds more than one YAML document",
                "remove the `---` line and everything after it, or split the file",
            )
            return None
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
        if node is None:
            self.file_error(1, 1, "the file is empty", "see docs/plan-format.md")
        return node

    # -- typed readers --------------------------------------------------------------------------

    def _refuse_alias(self, node: Node, field: str) -> bool:
        """Report `*name` where a value is expected; True when the node was one."""
        if not isinstance(node, AliasNode):
            return False
        self.error(
            node,
            field,
            "YAML anchors and aliases (&name, *name) are not supported",
            "write the value out in full",
        )
        return True

    def mapping(
        self,
        node: Node,
        field: str,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> dict[str, Entry] | None:
        """Read a mapping: string keys only, no duplicates, no unknown keys, all required keys."""
        if self._refuse_alias(node, field):
            return None
        if not isinstance(node, MappingNode):
            self.error(
                node,
                field,
                f"expected a mapping (key: value lines), found {describe(node)}",
                f"write {field} as indented `key: value` lines",
            )
            return None
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.pairs():
            if not isinstance(key_node, ScalarNode) or is_null(key_node):
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

    def sequence(self, node: Node, field: str) -> list[Node] | None:
        if self._refuse_alias(node, field):
            return None
        if not isinstance(node, SequenceNode):
            self.error(
                node,
                field,
                f"expected a list, found {describe(node)}",
                "write it as `[a, b]` or as lines starting with `- `",
            )
            return None
        return node.items

    def string(self, node: Node, field: str, *, max_length: int = 10_000) -> str | None:
        """A text value. Unquoted numbers, dates and yes/no are taken as the text they show
        (`date: 12.03` means the text «12.03», not the number 12.03)."""
        if self._refuse_alias(node, field):
            return None
        if not isinstance(node, ScalarNode):
            self.error(
                node,
                field,
                f"expected a text, found {describe(node)}",
                "write the value on the same line after the colon",
            )
            return None
        value = node.value
        if node.plain and value in _NULL_WORDS:
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

    def integer(self, node: Node, field: str, low: int, high: int) -> int | None:
        if self._refuse_alias(node, field):
            return None
        if not isinstance(node, ScalarNode) or not _INT_RE.fullmatch(node.value.strip()):
            self.error(
                node,
                field,
                f"expected a whole number, found {describe(node)}",
                f"write a number from {low} to {high}",
            )
            return None
        text = node.value.strip()
        # Compare the digits' count first: int() refuses numbers of thousands of digits.
        value = int(text) if len(text.lstrip("+-0")) <= 20 else None
        if value is None or not low <= value <= high:
            shown = text if len(text) <= 20 else f"{text[:17]}..."
            self.error(node, field, f"{shown} is out of range", f"write a number from {low} to {high}")
            return None
        return value

    def boolean(self, node: Node, field: str) -> bool | None:
        if self._refuse_alias(node, field):
            return None
        text = node.value.lower() if isinstance(node, ScalarNode) else None
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off"):
            return False
        self.error(node, field, f"expected true or false, found {describe(node)}", "write true or false")
        return None

    def string_list(self, node: Node, field: str) -> list[tuple[str, Node]] | None:
        """A list of texts, each with its node (for positions of later checks)."""
        items = self.sequence(node, field)
        if items is None:
            return None
        out: list[tuple[str, Node]] = []
        for index, item in enumerate(items):
            value = self.string(item, f"{field}[{index}]")
            if value is not None:
                out.append((value, item))
        return out


# -- helpers --------------------------------------------------------------------------------------


def read_file(path: Path, checker: Checker) -> Node | None:
    """The file's tree; its size is checked before it is read (a huge file is never read whole)."""
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            # Never more than the limit (and one byte, to tell "too large" of a file that grows or lies).
            data = stream.read(min(size, MAX_FILE_BYTES) + 1)
    except OSError as exc:
        checker.file_error(
            1, 1, f"cannot read the file: {exc.strerror}", "check the path and its permissions"
        )
        return None
    return checker.compose_bytes(data)


def position(node: Node | None) -> tuple[int, int]:
    return (1, 1) if node is None else (node.line, node.column)


def join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, AliasNode):
        return "an alias (*name)"
    if is_null(node) or not isinstance(node, ScalarNode):
        return "nothing"
    value = node.value
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"'{shown}'"


def suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "allowed here: " + ", ".join(sorted(choices))
