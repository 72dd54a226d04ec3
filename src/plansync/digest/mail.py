"""Digest mail: the templates rendered (text and HTML, CSS inlined) and the MIME message built from them.

Pure given their inputs (the clock is a parameter); sending is plansync.digest.transports'.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import logging
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import css_inline
import jinja2

from plansync.calendar import ical
from plansync.config.model import DigestConfig, MailConfig
from plansync.digest.changes import Changes
from plansync.digest.select import Digest, DigestView, view
from plansync.errors import PlansyncError
from plansync.util.shipped import DIGEST_TEMPLATES, shipped_templates

CHANGES_TEMPLATE = "changes.txt.j2"
PRODID = "-//plansync//weekly digest//RU"
LOCAL_SENDER = "plansync <plansync@localhost>"  # the outbox's sender when none is configured
log = logging.getLogger(__name__)


# -- templates ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListInfo:
    """How to stop the digest: a mail to the coordinator, and a one-click URL where configured."""

    unsubscribe: str  # the coordinator's address
    url: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _sentence(text: str) -> str:
    """Text ending as a sentence: a full stop unless it already ends with one."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _header_text(text: str) -> str:
    """Header text from templates or the plan: every run of whitespace, CR and LF included, is a space."""
    return " ".join(text.split())


class Renderer:
    """The Jinja environment: HTML autoescaped, text not, every undefined name an error."""

    def __init__(self, override: Path | None = None) -> None:
        folders = [str(override)] if override is not None else []
        folders.append(str(shipped_templates()))
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),  # the first folder that has a template wins
            autoescape=lambda name: bool(name) and str(name).endswith((".html.j2", ".html")),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.env.filters["sentence"] = _sentence
        self.subject = self.env.get_template(DIGEST_TEMPLATES[0])
        self.text = self.env.get_template(DIGEST_TEMPLATES[1])
        self.html = self.env.get_template(DIGEST_TEMPLATES[2])
        self.inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

    def render(
        self, digest: Digest, *, reply_to: str | None = None, listing: ListInfo | None = None
    ) -> Rendered:
        try:
            return self._render(view(digest), _bare(reply_to) if reply_to else None, listing)
        except jinja2.TemplateError as exc:
            where = f" ({exc.filename}:{exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
            raise PlansyncError(f"digest template error{where}: {exc}; fix the template") from exc

    def render_changes(
        self,
        digest: Digest,
        changes: Changes,
        *,
        reply_to: str | None = None,
        listing: ListInfo | None = None,
    ) -> Rendered:
        """A change notice: plain text only, short."""
        d = view(digest)
        try:
            text = self.env.get_template(CHANGES_TEMPLATE).render(
                d=d, changes=changes, reply_to=_bare(reply_to) if reply_to else None, list=listing
            )
        except jinja2.TemplateError as exc:
            raise PlansyncError(
                f"digest template error ({CHANGES_TEMPLATE}): {exc}; fix the template"
            ) from exc
        return Rendered(f"Изменения в плане на {d.period}", text, "")

    def _render(self, d: DigestView, reply_to: str | None, listing: ListInfo | None) -> Rendered:
        subject = _header_text(self.subject.render(d=d, reply_to=reply_to, list=listing))
        text = self.text.render(d=d, reply_to=reply_to, list=listing)
        html = self.inliner.inline(self.html.render(d=d, reply_to=reply_to, subject=subject, list=listing))
        return Rendered(subject, text, html)


# -- the message --------------------------------------------------------------------------------------


def _bare(address: str) -> str:
    return email.utils.parseaddr(address)[1] or address


def list_info(mail: MailConfig) -> ListInfo | None:
    if not mail.reply_to:
        return None
    return ListInfo(_bare(mail.reply_to), mail.unsubscribe_url)


def _domain(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id(recipient: str, period_key: str, sender: str, kind: str = "digest") -> str:
    """The same (recipient, period, kind) always gets the same Message-ID, under the sender's domain,
    so a resend after a crash is a duplicate mail clients can recognise."""
    seed = f"{recipient.strip().lower()}\n{period_key}" + (f"\n{kind}" if kind != "digest" else "")
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    label = "digest" if kind == "digest" else "changes"
    return f"<{period_key[:10]}.{digest}.{label}@{_domain(sender)}>"  # short: a folded header parses badly


def _list_label(plan_id: str) -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in plan_id.lower())[:60] or "plan"


def _address(recipient: str, name: str) -> Address:
    if any(c in recipient for c in '\r\n<>,;"') or recipient.count("@") != 1:
        raise PlansyncError(f"{recipient!r} is not a single mail address; correct it in the plan")
    local, _, domain = recipient.partition("@")
    return Address(display_name=_header_text(name), username=local, domain=domain)


def build_message(
    rendered: Rendered,
    *,
    digest: Digest,
    recipient: str,
    config: DigestConfig,
    now: dt.datetime,
    ics: bytes | None = None,
    listing: ListInfo | None = None,
    kind: str = "digest",
) -> EmailMessage:
    """One message to one recipient: text and HTML alternatives (base64, never raw 8-bit) and an
    optional text/calendar attachment. Reply-To always (the sender when no coordinator is set);
    List-Id and List-Unsubscribe (RFC 2369, RFC 8058 one-click where a URL is configured)."""
    sender = config.sender or LOCAL_SENDER
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = _address(recipient, digest.organization.short_name)
    msg["Reply-To"] = config.reply_to or sender
    msg["Subject"] = _header_text(rendered.subject)
    msg["Date"] = email.utils.format_datetime(now)
    msg["Message-ID"] = message_id(recipient, digest.period.key, sender, kind)
    if kind != "digest":  # a change notice answers the week's digest: mail clients thread them
        msg["In-Reply-To"] = msg["References"] = message_id(recipient, digest.period.key, sender)
    plan_id = (
        digest.items[0].plan.id if digest.items else (digest.others[0].plan.id if digest.others else "plan")
    )
    msg["List-Id"] = f"<{_list_label(plan_id)}.digest.{_domain(sender)}>"
    if listing is not None:
        links = [f"<mailto:{listing.unsubscribe}?subject=unsubscribe%20{recipient}>"]
        if listing.url:
            links.insert(0, f"<{listing.url}>")
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["List-Unsubscribe"] = ", ".join(links)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
    if rendered.html:
        msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    if ics is not None:
        msg.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename=f"plan-{digest.period.start.isoformat()}.ics",
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    # Last: set_content and add_alternative drop or move every Content-* header set before them.
    msg["Content-Language"] = "ru"
    return msg


def calendar_bytes(digest: Digest, now: dt.datetime) -> bytes | None:
    """The own entries the digest lists this week and ahead, as METHOD:PUBLISH, built as the
    recipient's synced calendar has them (same UIDs); None when there is none."""
    dated = [
        (i.plan, i.event, digest.organization.id) for i in digest.items if i.section in ("week", "ahead")
    ]
    return ical.calendar_bytes(dated, stamp=now.astimezone(dt.UTC).replace(microsecond=0), method="PUBLISH")
