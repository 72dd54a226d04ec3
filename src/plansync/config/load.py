"""Finding and reading the configuration file, and the environment variables that override it.

What may be set, and how each value is checked, is `plansync.config.schema`; this module walks the
file with it (all problems at once, as `file:line:col: field: problem — fix`), applies the PLANSYNC_*
variables and builds the `plansync.config.model` values. Relative paths in the file are relative to
its folder, so a unit file or a cron job can run plansync from any working directory.
"""

from __future__ import annotations

import email.utils
import os
from collections.abc import Mapping
from pathlib import Path

from plansync.config.kinds import Invalid, Refused
from plansync.config.model import (
    CalDAVConfig,
    Config,
    DigestConfig,
    EmbeddedServer,
    MailConfig,
    PasswordSource,
    PublishConfig,
    SMTPConfig,
    SyncConfig,
)
from plansync.config.schema import CONFIG_ENV, KEY, KEYS, SECTIONS
from plansync.errors import InvalidInput, PlansyncError
from plansync.planread.yamlcheck import Checker, Node, read_file

CONFIG_NAME = "plansync.yaml"


def search_paths(environ: Mapping[str, str]) -> list[Path]:
    """Where plansync looks for its config when neither --config nor PLANSYNC_CONFIG says, in order:
    the working folder, the repository checkout's layout, the user's config folder, the system's."""
    home = Path(environ.get("HOME") or Path.home())
    xdg = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return [
        Path(CONFIG_NAME),
        Path("config") / CONFIG_NAME,
        Path(xdg) / "plansync" / CONFIG_NAME,
        Path("/etc/plansync") / CONFIG_NAME,
    ]


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config beats PLANSYNC_CONFIG beats the first of `search_paths` that exists; None: none."""
    if explicit is not None:
        return explicit
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return next((path for path in search_paths(environ) if path.is_file()), None)


def default_state_dir(environ: Mapping[str, str]) -> Path:
    """systemd's StateDirectory= (its first folder), else the XDG state folder."""
    if environ.get("STATE_DIRECTORY"):
        return Path(environ["STATE_DIRECTORY"].split(":")[0])
    home = Path(environ.get("HOME") or Path.home())
    return Path(environ.get("XDG_STATE_HOME") or str(home / ".local" / "state")) / "plansync"


def load_config(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file and apply the environment overrides."""
    env = os.environ if environ is None else environ
    path = config_path(explicit, env)
    if path is None:
        looked = ", ".join(str(p) for p in search_paths(env))
        raise PlansyncError(
            f"no configuration found (looked for --config, ${CONFIG_ENV}, {looked}); "
            "run `plansync init` to write a starter plansync.yaml here, or pass --config FILE"
        )
    if not path.exists():
        raise PlansyncError(f"config file {path} not found; check --config or {CONFIG_ENV}")
    checker = Checker(str(path))
    root = read_file(path, checker)
    values: dict[str, object] = {}
    if root is not None:
        checker.guarded(lambda: _read_section(root, "", checker, path.parent, values))
    if checker.problems or root is None:
        raise InvalidInput(checker.problems)
    values.update(environment_values(env))
    config = _build(values, path, env)
    check_sender(config)
    return config


def _read_section(node: Node, section: str, c: Checker, base: Path, out: dict[str, object]) -> None:
    keys = {key.short: key for key in KEYS if key.section == section}
    subs = {name.rpartition(".")[2]: name for name in SECTIONS if name and name.rpartition(".")[0] == section}
    required = [key.short for key in keys.values() if key.required]
    fields = c.mapping(node, section, [*keys, *subs], required=required)
    for short, entry in (fields or {}).items():
        if short in subs:
            _read_section(entry.value, subs[short], c, base, out)
            continue
        key = keys[short]
        value = key.kind.read(entry, key.name, c, base)
        try:
            for check in key.checks if value is not None else ():
                check(value)
        except Invalid as problem:
            c.error(entry.value, key.name, problem.message, problem.hint)
            continue
        if value is not None:
            out[key.name] = value


def environment_values(env: Mapping[str, str]) -> dict[str, object]:
    """The keys the PLANSYNC_* variables set; a bad value names its variable."""
    out: dict[str, object] = {}
    for key in KEYS:
        text = env.get(key.env) if key.env else None
        if not text or isinstance(key.kind, Refused):
            continue
        try:
            value = key.kind.convert(text, None)
            for check in key.checks:
                check(value)
        except Invalid as problem:
            raise PlansyncError(f"{key.env}: {problem.message}; {problem.hint}") from None
        out[key.name] = value
        out.update(key.env_sets)
    return out


def _fields(values: Mapping[str, object], section: str) -> dict[str, object]:
    """The dataclass arguments of one section's keys that were given."""
    out: dict[str, object] = {}
    password: dict[str, object] = {}
    for key in KEYS:
        if key.section != section or key.name not in values:
            continue
        field = key.short if key.field is None else key.field
        if isinstance(field, tuple):
            out.update(zip(field, values[key.name], strict=True))  # type: ignore[call-overload]
        elif field.startswith("password."):
            password[field.removeprefix("password.")] = values[key.name]
        else:
            out[field] = values[key.name]
    if f"{section}.password" in KEY:
        override = KEY[f"{section}.password"].env or ""
        out["password"] = PasswordSource(override_env=override, **password)  # type: ignore[arg-type]
    return out


def check_sender(config: Config) -> None:
    """SMTP refuses to start without a real sender and a reply address: mail from localhost is rejected
    by many servers, and people need somewhere to answer."""
    mail = config.mail
    if mail.transport != "smtp":
        return
    where = f"{config.source}: " if config.source is not None else ""
    domain = email.utils.parseaddr(mail.sender or "")[1].rpartition("@")[2].lower()
    if not mail.sender or domain in ("", "localhost") or "." not in domain:
        raise PlansyncError(
            f"{where}mail.from is not set to a real address, and SMTP needs one (servers reject mail "
            "from localhost); add `from: Сводный план <plan@your-library.ru>` under `mail:`"
        )
    if not mail.reply_to:
        raise PlansyncError(
            f"{where}mail.reply_to is not set, and SMTP needs it so people can answer the digests; "
            "add `reply_to: Coordinator <coordinator@your-library.ru>` under `mail:`"
        )


def _build(values: Mapping[str, object], source: Path, env: Mapping[str, str]) -> Config:
    state_dir = values.get("state_dir")
    state = state_dir if isinstance(state_dir, Path) else default_state_dir(env)
    embedded = _fields(values, "caldav.embedded")
    embedded.setdefault("storage", state / "radicale")
    mail = _fields(values, "mail")
    mail.setdefault("outbox", state / "outbox")
    digest = _fields(values, "digest")
    # mail.from and mail.reply_to win; digest.from and digest.reply_to are their older names.
    mail.setdefault("sender", digest.get("sender"))
    mail.setdefault("reply_to", digest.get("reply_to"))
    for name in ("sender", "reply_to"):
        if mail.get(name) is not None:
            digest[name] = mail[name]
    top = _fields(values, "")
    return Config(
        source=source,
        plans=top["plans"],  # type: ignore[arg-type]
        state_dir=state,
        caldav=CalDAVConfig(**_fields(values, "caldav"), embedded=EmbeddedServer(**embedded)),  # type: ignore[arg-type]
        calendars=top.get("calendars", {}),  # type: ignore[arg-type]
        sync=SyncConfig(**_fields(values, "sync")),  # type: ignore[arg-type]
        digest=DigestConfig(**digest),  # type: ignore[arg-type]
        mail=MailConfig(**mail, smtp=SMTPConfig(**_fields(values, "mail.smtp"))),  # type: ignore[arg-type]
        log_level=str(top.get("log_level", "info")),
        publish=PublishConfig(**_fields(values, "publish")),  # type: ignore[arg-type]
    )
