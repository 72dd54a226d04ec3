"""Text a server or a file sent, before it is shown, logged or stored: one line, no escape sequences or
control characters, secrets masked, bounded."""

from __future__ import annotations

import base64

from plansync.util.logs import MASK, register_secret, untrusted


def test_escape_sequences_and_controls_are_gone() -> None:
    hostile = "403 \x1b[2J\x1b[1;1Hcleared \x1b]0;new title\x07 \x1b[31mred\x1b[0m\r\nnext\x00line\x9b"
    shown = untrusted(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x00" not in shown and "\x9b" not in shown
    assert "\n" not in shown and "\r" not in shown
    assert shown == "403 cleared red next line"


def test_an_echoed_authorization_header_is_masked() -> None:
    token = base64.b64encode(b"methodist:Pa55-word-of-the-day").decode()
    register_secret(token)
    shown = untrusted(f"bad request; you sent Authorization: Basic {token}")
    assert token not in shown and MASK in shown


def test_long_text_is_cut() -> None:
    assert len(untrusted("x" * 10_000, 200)) == 200
