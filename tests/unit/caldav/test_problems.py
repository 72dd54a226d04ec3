"""Reading a server's refusal: the DAV:error bodies real servers send, and bodies nobody should trust."""

from __future__ import annotations

from plansync.caldav.problems import MAX_ERROR_BODY, explain, read_refusal

SABREDAV_REPORT = b"""<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:exception>Sabre_DAV_Exception_ReportNotSupported</s:exception>
  <s:message></s:message>
  <d:supported-report/>
</d:error>"""

CYRUS_UID = b"""<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:unique-scheduling-object-resource>\
<D:href>/dav/calendars/user/alice/other/x.ics</D:href></C:unique-scheduling-object-resource></D:error>"""


def test_sabredav_unsupported_report() -> None:
    refusal = read_refusal(SABREDAV_REPORT)
    assert refusal.has("supported-report") and refusal.conditions == ("supported-report",)
    assert explain(refusal) == "the server does not support this REPORT"


def test_cyrus_uid_clash_names_the_holder() -> None:
    refusal = read_refusal(CYRUS_UID)
    assert refusal.hrefs == ("/dav/calendars/user/alice/other/x.ics",)
    said = explain(refusal)
    assert said is not None and "at /dav/calendars/user/alice/other/x.ics" in said


def test_each_precondition_has_its_own_fix() -> None:
    for name, words in (
        ("max-resource-size", "larger than the server accepts"),
        ("number-of-matching-items", "caps how many events"),
        ("valid-calendar-data", "invalid iCalendar"),
        ("need-privileges", "rights"),
    ):
        body = f'<d:error xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><c:{name}/></d:error>'
        said = explain(read_refusal(body.encode()))
        assert said is not None and words in said, (name, said)


def test_untrusted_bodies_give_no_reason() -> None:
    for body in (b"", b"<html>Forbidden</html>", b"<d:error xmlns:d='DAV:'>", b"not xml at all"):
        assert explain(read_refusal(body)) is None
    huge = b'<d:error xmlns:d="DAV:"><d:supported-report/>' + b" " * MAX_ERROR_BODY + b"</d:error>"
    assert read_refusal(huge).conditions == ()
    unknown = read_refusal(b'<d:error xmlns:d="DAV:"><x:made-up xmlns:x="urn:x"/></d:error>')
    assert unknown.conditions == ("made-up",) and explain(unknown) is None
