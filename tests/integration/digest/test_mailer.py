"""Messages and transports, against a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS, AUTH)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
import socket
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest

from plansync.calendar.identity import event_uid
from plansync.digest.mail import Renderer, build_message, calendar_bytes, message_id
from plansync.digest.select import Period, digest_period, select
from plansync.digest.transports import MaildirTransport, SendError, SMTPTransport
from plansync.errors import PlansyncError
from plansync.jobs.digest import send_digests
from tests.support.configs import NOW, SENDER, make_config, smtp_config
from tests.support.paths import PLAN_2024
from tests.support.plans import event, make_plan
from tests.support.smtp import (
    PASSWORD,
    USER,
    SMTPServer,
    rogue_smtp_server,
    rogue_tls_files,
    silent_server,
    smtp_server,
    smtps_server,
    tls_files,
)

ENV = {"TEST_SMTP_PASSWORD": PASSWORD}
MAY_20 = dt.date(2024, 5, 20)
SEMINAR = "Семинар-практикум «Программа «Пушкинская карта»: от замысла к реализации»"
ROUND_TABLE = "Круглый стол для сотрудников библиотек г. Советска"


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_content_type(): part for part in msg.walk() if not part.is_multipart()}  # type: ignore[misc]


def send_via(server: SMTPServer, tmp_path: Path, ca: Path, **smtp_options: object) -> object:
    smtp = smtp_config(server.port, security=server.security, ca_file=ca, user=USER, **smtp_options)  # type: ignore[arg-type]
    return send_digests(make_config(tmp_path, smtp=smtp), as_of=MAY_20, now=NOW, environ=ENV)


def test_starttls_auth_delivers_a_readable_russian_digest(
    smtp_server: SMTPServer, tls_files, tmp_path: Path
) -> None:
    smtp = smtp_config(smtp_server.port, ca_file=tls_files.ca, user=USER)
    config = make_config(tmp_path, smtp=smtp, include_others=True)
    config = replace(config, mail=replace(config.mail, unsubscribe_url="https://lib39.ru/digest/stop"))
    report = send_digests(config, as_of=MAY_20, now=NOW, environ=ENV)
    # The region's week: the libraries without events of their own hear of the others' too.
    assert [o.status for o in report.outcomes if o.recipient] == ["sent"] * 4
    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert set(received) == {
        "nmo@lib39.ru",
        "mayak_biblio@mail.ru",
        "gaidar39@librgaidar.net",
        "kobs@inbox.ru",
    }
    got = received["mayak_biblio@mail.ru"]
    assert got.tls and got.authenticated
    assert got.mail_from == "plansync@example.org"
    assert max(got.data) < 128, "the message must be 7-bit: base64/quoted-printable bodies, RFC 2047 headers"
    assert b"=?utf-8?" in got.data.split(b"\r\n\r\n", 1)[0].lower()

    msg = parse(got.data)
    assert msg["Subject"] == "План на 20–26 мая 2024 г.: ваших 1, в области 1"  # a header: plain spaces
    assert len(msg["Subject"]) <= 70
    assert msg["From"].addresses[0].display_name == "Сводный план библиотек"
    assert msg["Reply-To"].addresses[0].addr_spec == "nmo@lib39.ru"
    assert msg["To"].addresses[0].addr_spec == "mayak_biblio@mail.ru"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].strip() == message_id(
        "mayak_biblio@mail.ru", Period(MAY_20, dt.date(2024, 5, 26)).key, SENDER
    )
    assert msg["Message-ID"].strip().endswith("@example.org>")  # the sender's domain
    assert msg["List-Id"] == "<plan-2024.digest.example.org>"
    assert msg["List-Unsubscribe"] == (
        "<https://lib39.ru/digest/stop>, <mailto:nmo@lib39.ru?subject=unsubscribe%20mayak_biblio@mail.ru>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    by_type = parts(msg)
    assert set(by_type) == {"text/plain", "text/html", "text/calendar"}
    for kind in ("text/plain", "text/html"):
        assert by_type[kind]["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    text = by_type["text/plain"].get_content().replace("\r\n", "\n")
    assert "Сводный план на неделю 20–26\xa0мая 2024\xa0г." in text
    assert (
        "20\xa0мая, пн. Семинар-практикум «Программа „Пушкинская карта“: от замысла к\nреализации»." in text
    )
    assert "Организатор: Юношеская библиотека им.\xa0В.\xa0Маяковского,\nтел.\xa08(4012)\xa064-18-82" in text
    assert ROUND_TABLE.replace("г. ", "г.\xa0") in text.replace("\n", " ")  # the other organizer's event
    assert "nmo@lib39.ru" in text and "«Отписаться»" in text  # whom to answer, how to stop
    html = by_type["text/html"].get_content()
    assert "Семинар-практикум «Программа „Пушкинская карта“: от замысла к реализации»" in html
    assert 'href="mailto:nmo@lib39.ru"' in html and "https://lib39.ru/digest/stop" in html
    assert "<style" not in html and 'style="' in html  # CSS inlined for mail clients

    calendar = by_type["text/calendar"]
    assert calendar.get_param("method") == "PUBLISH"
    cal = icalendar.Calendar.from_ical(calendar.get_content())
    assert cal["METHOD"] == "PUBLISH"
    events = list(cal.walk("VEVENT"))
    assert [(str(e["SUMMARY"]), e.decoded("DTSTART")) for e in events] == [(SEMINAR, MAY_20)]
    assert str(events[0]["UID"]) == event_uid("plan-2024", "dated-11", "mayakovsky")  # as synced


def test_implicit_tls(smtps_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    report = send_via(smtps_server, tmp_path, tls_files.ca)
    assert report.count("sent") == 2  # type: ignore[attr-defined]
    assert all(m.tls and m.authenticated for m in smtps_server.messages)


def test_untrusted_certificate_is_refused(rogue_smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    report = send_via(rogue_smtp_server, tmp_path, tls_files.ca)
    failed = report.permanent_failures  # type: ignore[attr-defined]
    assert len(failed) == 2 and "certificate is not trusted" in failed[0].reason
    assert rogue_smtp_server.messages == []


def test_the_system_trust_store_does_not_trust_a_test_ca(smtp_server: SMTPServer, tmp_path: Path) -> None:
    transport = SMTPTransport(smtp_config(smtp_server.port, user=USER), None)
    with pytest.raises(SendError) as info:
        transport.send(b"Subject: x\r\n\r\nx\r\n", SENDER, "a@lib.example")
    assert not info.value.transient
    assert smtp_server.messages == []


def test_wrong_password_is_a_permanent_failure(smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    smtp = smtp_config(smtp_server.port, ca_file=tls_files.ca, user=USER)
    report = send_digests(make_config(tmp_path, smtp=smtp), as_of=MAY_20, now=NOW,
                          environ={"TEST_SMTP_PASSWORD": "wrong"})  # fmt: skip
    failed = report.permanent_failures
    assert len(failed) == 2 and "refused the login" in failed[0].reason
    assert "wrong" not in failed[0].reason and PASSWORD not in failed[0].reason
    assert smtp_server.messages == []


def test_missing_password_is_reported_not_sent(smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    report = send_via(smtp_server, tmp_path, tls_files.ca, password_env="NOT_SET_ANYWHERE")
    assert "no password" in report.permanent_failures[0].reason  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reply", "transient"), [("451 4.3.0 Try again later", True), ("554 5.7.1 Rejected as spam", False)]
)
def test_server_replies_are_classified(
    smtp_server: SMTPServer, tls_files, reply: str, transient: bool
) -> None:
    smtp_server.recorder.replies.append(reply)
    transport = SMTPTransport(smtp_config(smtp_server.port, ca_file=tls_files.ca, user=USER), _secret())
    with pytest.raises(SendError) as info:
        transport.send(b"Subject: x\r\n\r\nx\r\n", SENDER, "a@lib.example")
    assert info.value.transient is transient
    assert reply.split(maxsplit=1)[0] in info.value.reason
    transport.send(b"Subject: y\r\n\r\ny\r\n", SENDER, "a@lib.example")  # a fresh session works
    transport.close()
    assert len(smtp_server.messages) == 1


def test_timeout_and_refused_connection_are_transient(silent_server: int) -> None:
    hanging = SMTPTransport(smtp_config(silent_server, security="none", timeout=0.5), None)
    with pytest.raises(SendError) as info:
        hanging.send(b"x", SENDER, "a@lib.example")
    assert info.value.transient and "in time" in info.value.reason
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    refused = SMTPTransport(smtp_config(closed_port, security="none"), None)
    with pytest.raises(SendError) as info:
        refused.send(b"x", SENDER, "a@lib.example")
    assert info.value.transient and "refused" in info.value.reason


def _secret() -> object:
    from plansync.config.model import Secret

    return Secret(PASSWORD)


# -- building messages without a server --------------------------------------------------------------

EVIL = 'Злой\r\nBcc: victim@evil.example\r\n\r\n<script>alert("x")</script> & «ок»'


def _evil_message(tmp_path: Path) -> EmailMessage:
    from plansync.model.plan import Contacts, Organization

    org = Organization("lib-a", "Библиотека\r\nBcc: victim@evil.example", EVIL, "library",
                       Contacts((), ("a@lib.example",)))  # fmt: skip
    plan = make_plan(event("e1", "21 мая", "lib-a", title=EVIL), organizations=(org,))
    digest = select([plan], digest_period(MAY_20)).digests[0]
    config = make_config(tmp_path)
    rendered = Renderer().render(digest)
    ics = calendar_bytes(digest, NOW)
    return build_message(
        rendered, digest=digest, recipient="a@lib.example", config=config.digest, now=NOW, ics=ics
    )


def test_header_injection_from_plan_text_is_harmless(tmp_path: Path) -> None:
    data = _evil_message(tmp_path).as_bytes()
    msg = parse(data)
    assert msg["Bcc"] is None
    assert msg.get_all("To") is not None and len(msg.get_all("To")) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@lib.example"]
    assert "victim" not in msg["To"].addresses[0].addr_spec
    by_type = parts(msg)
    html = by_type["text/html"].get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp;amp;" not in html
    text = by_type["text/plain"].get_content().replace("\r\n", "\n")
    assert '<script>alert("x")</script> & «ок»' in text  # plain text is not escaped
    summary = str(
        next(iter(icalendar.Calendar.from_ical(by_type["text/calendar"].get_content()).walk("VEVENT")))[
            "SUMMARY"
        ]
    )
    assert "\n" not in summary and "\r" not in summary


def test_message_id_is_deterministic_per_recipient_and_period(tmp_path: Path) -> None:
    first = _evil_message(tmp_path)["Message-ID"]
    assert first == _evil_message(tmp_path)["Message-ID"]
    week = digest_period(MAY_20).key
    assert message_id("a@lib.example", week, SENDER) == message_id("A@Lib.Example", week, SENDER)
    assert message_id("a@lib.example", week, SENDER) != message_id("b@lib.example", week, SENDER)
    assert message_id("a@lib.example", week, SENDER) != message_id(
        "a@lib.example", digest_period(dt.date(2024, 5, 27)).key, SENDER
    )
    assert message_id("a@lib.example", week, SENDER).endswith("@example.org>")


def test_recipient_with_line_break_is_refused(tmp_path: Path) -> None:
    plan = make_plan(event("e1", "21 мая", "lib-a"))
    digest = select([plan], digest_period(MAY_20)).digests[0]
    rendered = Renderer().render(digest)
    with pytest.raises(PlansyncError):
        build_message(rendered, digest=digest, recipient="a@lib.example\r\nBcc: x@y.z",
                      config=make_config(tmp_path).digest, now=NOW)  # fmt: skip


def test_template_folder_overrides_and_strict_undefined(tmp_path: Path) -> None:
    plan = make_plan(event("e1", "21 мая", "lib-a"))
    digest = select([plan], digest_period(MAY_20)).digests[0]
    (tmp_path / "digest_subject.txt.j2").write_text("Своя тема: {{ d.period }}\n", encoding="utf-8")
    rendered = Renderer(tmp_path).render(digest)
    assert rendered.subject == "Своя тема: 20–26 мая 2024 г."
    assert "Мероприятие e1" in rendered.text  # the shipped text template is still used
    (tmp_path / "digest.txt.j2").write_text("{{ d.no_such_field }}", encoding="utf-8")
    with pytest.raises(PlansyncError, match="template"):
        Renderer(tmp_path).render(digest)


def test_maildir_outbox_gets_real_messages(tmp_path: Path) -> None:
    report = send_digests(make_config(tmp_path), as_of=MAY_20, now=NOW)
    assert report.count("sent") == 2
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    messages = [parse(box.get_bytes(key)) for key in box.iterkeys()]
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in messages) == [
        "kobs@inbox.ru",
        "mayak_biblio@mail.ru",
    ]
    assert all(set(parts(m)) == {"text/plain", "text/html", "text/calendar"} for m in messages)
    MaildirTransport(tmp_path / "outbox").close()


def test_plan_file_is_the_2024_plan() -> None:
    assert PLAN_2024.exists()
