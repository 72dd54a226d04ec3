"""Sending a message: SMTP (none/STARTTLS/implicit TLS, AUTH, verified certificates) or a Maildir outbox.

The I/O edge of the digests. Every send failure becomes a SendError that says whether trying again
later can help.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import logging
import mailbox
import os
import smtplib
import socket
import ssl
from pathlib import Path
from typing import Protocol

from plansync.config.model import MailConfig, Secret, SMTPConfig

log = logging.getLogger(__name__)


class SendError(Exception):
    """A send that failed. `transient`: a later attempt may succeed (4xx, timeout, refused connection);
    otherwise it will not without a person fixing something (5xx, authentication, TLS)."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class Transport(Protocol):
    name: str

    def send(self, data: bytes, sender: str, recipient: str) -> None: ...

    def close(self) -> None: ...


def envelope_sender(sender: str) -> str:
    return email.utils.parseaddr(sender)[1]


class MaildirTransport:
    """The embedded default: each message a file in a Maildir's new/, to open in any mail client."""

    name = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        try:
            box = mailbox.Maildir(self.path, create=True)
            box.add(data.replace(b"\r\n", b"\n"))  # Maildir files use local line ends
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
        try:
            if self._smtp is None:
                self._smtp = self._connect()
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
