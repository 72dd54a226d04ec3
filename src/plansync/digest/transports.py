"""Sending a message: SMTP (none/STARTTLS/implicit TLS, AUTH, verified certificates) or a Maildir outbox.

The I/O edge of the digests. Every send failure becomes a SendError that says whether trying again
later can help.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import itertools
import logging
import mailbox
import os
import smtplib
import socket
import ssl
import time
from pathlib import Path
from typing import Protocol

from plansync.config.model import MailConfig, Secret, SMTPConfig
from plansync.errors import PlansyncError

log = logging.getLogger(__name__)


class SendError(Exception):
    """A send that failed. `transient`: a later attempt may succeed (4xx, timeout, refused connection);
    otherwise it will not without a person fixing something (5xx, authentication, TLS). `setup`: what a
    person must fix is the SMTP settings (STARTTLS or TLS that does not work, a login refused, the
    sender refused), not this message: every message would fail alike, and none is to be held for it."""

    def __init__(self, reason: str, *, transient: bool, setup: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.setup = setup


# Domains that receive no mail (RFC 2606): the placeholders `plansync init` writes.
PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")


def is_placeholder(address: str) -> bool:
    domain = email.utils.parseaddr(address)[1].rpartition("@")[2].lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in PLACEHOLDER_DOMAINS)


def refuse_placeholders(mail: MailConfig) -> None:
    """SMTP sends nothing from a placeholder sender, and takes no placeholder reply address: whoever
    changed one and forgot the other would have people answer a stranger."""
    for key, value in (("mail.from", mail.sender), ("mail.reply_to", mail.reply_to)):
        if value and is_placeholder(value):
            raise PlansyncError(
                f"{key} is still the placeholder {email.utils.parseaddr(value)[1]} that `plansync init` "
                f"wrote (example.org receives no mail); write your own address as {key} in the config "
                "before sending over SMTP"
            )


class Transport(Protocol):
    name: str

    def send(self, data: bytes, sender: str, recipient: str) -> None: ...

    def close(self) -> None: ...


def envelope_sender(sender: str) -> str:
    return email.utils.parseaddr(sender)[1]


class MaildirTransport:
    """The embedded default: each message a file in a Maildir's new/, to open in any mail client. The
    files are named `….eml`, so that a double click opens one (a Maildir takes any name)."""

    name = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._count = itertools.count()

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        try:
            mailbox.Maildir(self.path, create=True)  # new/, cur/, tmp/ (0700)
            host = socket.gethostname().replace("/", "_").replace(":", "_")
            name = f"{time.time_ns()}.P{os.getpid()}Q{next(self._count)}.{host}.eml"
            temporary = self.path / "tmp" / name
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # addresses inside
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.replace(b"\r\n", b"\n"))  # Maildir files use local line ends
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path / "new" / name)
        except OSError as exc:
            raise SendError(
                f"cannot write to the outbox {self.path}: {exc.strerror}", transient=False
            ) from None

    def close(self) -> None:
        pass


def _smtp_reason(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def classify(exc: BaseException, server: str) -> SendError:
    """Turn what smtplib and ssl raise into a SendError, transient or permanent."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendError(
            f"{server} refused the login ({_smtp_reason(exc.smtp_code, exc.smtp_error)}); "
            "check mail.smtp.username and the password",
            transient=400 <= exc.smtp_code < 500,  # 454: a temporary failure of the server's auth
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return SendError(
            f"{server} refused the sender {exc.sender} ({_smtp_reason(exc.smtp_code, exc.smtp_error)}); "
            "check mail.from (an address the server may send from)",
            transient=400 <= exc.smtp_code < 500,
            setup=not 400 <= exc.smtp_code < 500,
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()))
        return SendError(
            f"{server} refused the recipient: {_smtp_reason(code, message)}", transient=code < 500
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendError(
            f"{server} answered {_smtp_reason(exc.smtp_code, exc.smtp_error)}",
            transient=400 <= exc.smtp_code < 500,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if "starttls" in str(exc).lower():
            return SendError(
                f"{server} does not offer STARTTLS (mail.smtp.security is starttls): for a relay on your "
                "own network that has no TLS, set mail.smtp.security: none; for implicit TLS (port 465), tls",
                transient=False,
            )
        return SendError(f"{server}: {exc}; check mail.smtp.security", transient=False)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendError(
            f"{server}'s TLS certificate is not trusted ({exc.verify_message}); "
            "give the server's CA in mail.smtp.ca_file",
            transient=False,
        )
    if isinstance(exc, ssl.SSLError):
        return SendError(
            f"TLS with {server} failed ({exc.reason or exc}); check mail.smtp.security and port",
            transient=False,
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return SendError(f"{server} did not answer in time", transient=True)
    if isinstance(exc, ConnectionRefusedError):
        return SendError(f"{server} refused the connection", transient=True)
    if isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc):
        return SendError(f"{server} did not answer in time", transient=True)  # smtplib hides the timeout
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendError(f"{server} closed the connection ({exc})", transient=True)
    if isinstance(exc, smtplib.SMTPException):
        return SendError(f"{server}: {exc}", transient=False)
    if isinstance(exc, OSError):
        return SendError(f"cannot reach {server}: {exc.strerror or exc}", transient=True)
    raise exc


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """One AUTH attempt. smtplib's login() encodes credentials as ASCII and, after a refusal, tries
    the next mechanism with the same wrong password; AUTH PLAIN (RFC 4616) carries UTF-8 in one go."""
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        if not (username + password).isascii():
            raise SendError("the password is not ASCII and the server offers no AUTH PLAIN", transient=False)
        smtp.login(username, password)
        return
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode("ascii")
    code, response = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, response)


class SMTPTransport:
    """One connection reused for all messages of a run, opened on the first send."""

    name = "smtp"

    def __init__(self, config: SMTPConfig, password: Secret | None) -> None:
        self.config = config
        self._password = password
        self._smtp: smtplib.SMTP | None = None
        self.server = f"{config.host}:{config.effective_port}"

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file is not None else None
        context = ssl.create_default_context(cafile=cafile)
        if not self.config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.username and self._password is None:
            raise SendError(
                f"mail.smtp.username is set but no password was given for {self.server}; "
                "set PLANSYNC_SMTP_PASSWORD, mail.smtp.password_env or mail.smtp.password_file",
                transient=False,
            )
        smtp: smtplib.SMTP
        if c.security == "tls":
            smtp = smtplib.SMTP_SSL(c.host, c.effective_port, timeout=c.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(c.host, c.effective_port, timeout=c.timeout)
        try:
            smtp.ehlo()
            if c.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if c.username and self._password is not None:
                _login(smtp, c.username, self._password.reveal())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except Exception as exc:
                failure = classify(exc, self.server)
                # What fails before any message is sent, and not for the moment, is the settings'.
                raise SendError(
                    failure.reason, transient=failure.transient, setup=not failure.transient
                ) from None
        try:
            self._smtp.sendmail(envelope_sender(sender), [recipient], data)
        except Exception as exc:
            self.close()  # a failed session is not reused; the next send starts afresh
            raise classify(exc, self.server) from None

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def open_transport(mail: MailConfig, environ: dict[str, str] | None = None) -> Transport:
    if mail.transport == "smtp":
        refuse_placeholders(mail)
        password = mail.smtp.password.resolve(os.environ if environ is None else environ)
        if not mail.smtp.verify_tls:
            log.warning(
                "TLS certificate verification is OFF for the SMTP server %s:%s (mail.smtp.verify_tls: "
                "false): anyone on the network path can read the digests and the password; turn it back on",
                mail.smtp.host,
                mail.smtp.effective_port,
            )
        if password is not None and mail.smtp.security == "none":
            log.warning(
                "mail.smtp.security is none: the SMTP password goes to %s:%s in clear; use starttls or tls",
                mail.smtp.host,
                mail.smtp.effective_port,
            )
        return SMTPTransport(mail.smtp, password)
    return MaildirTransport(mail.outbox)
