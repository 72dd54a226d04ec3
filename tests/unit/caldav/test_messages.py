"""What plansync says of a server's answer that is not XML, and of TLS trouble a person can fix."""

from __future__ import annotations

import ssl

from plansync.caldav.session import tls_trouble
from plansync.caldav.xml import not_xml

PHP = (
    b"<br />\n<b>Warning</b>:  Undefined variable $x in <b>/srv/dav/server.php</b> on line <b>10</b><br />\n"
    b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"/>'
)


def test_php_warnings_before_the_xml_are_quoted_and_named() -> None:
    said = not_xml(PHP, "junk after document element")
    assert "Undefined variable $x" in said and "display_errors" in said and "\n" not in said


def test_an_html_page_is_quoted_and_the_url_questioned() -> None:
    said = not_xml(b"It works!\n", "syntax error")
    assert "«It works!»" in said and "caldav.url" in said


def test_control_characters_of_an_answer_are_not_printed() -> None:
    said = not_xml(b"\x1b[31mred\x1b[0m <b>Warning</b>: x", "syntax error")
    assert "\x1b" not in said


def test_an_untrusted_certificate_points_at_caldav_ca_file() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "unable to get local issuer certificate"
    said = tls_trouble(error, "https://dav.library.local/")
    assert said is not None and "caldav.ca_file" in said and "unable to get local issuer" in said


def test_https_to_a_plain_port_and_http_to_a_tls_port_say_which_to_write() -> None:
    plain = tls_trouble(
        ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "https://h:5232/"
    )
    assert plain is not None and "http://h:5232/" in plain
    reset = tls_trouble(ConnectionResetError(104, "Connection reset by peer"), "http://h:8443/dav/")
    assert reset is not None and "https://h:8443/dav/" in reset
    assert tls_trouble(TimeoutError("timed out"), "http://h/") is None
