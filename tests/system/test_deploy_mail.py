"""A first deployment's mail, with plansync installed from its wheel and run from empty folders
(issue 28, items 1, 2, 3 and 5, and the small ones about digests): placeholders that cannot mail
anyone, a trial that sends everything to one address, a state folder per config, exit statuses cron
can act on, and SMTP settings errors that do not hold the messages."""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest

from tests.support.installed import Installed, empty_folder, installed
from tests.support.smtp import SMTPServer, free_port, relay

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # slow: the installed plansync as a process

WEEK = "2024-10-28"  # a week of the example plan with digests for four libraries
EXAMPLE_LIBRARIES = 4  # konb, mayakovsky, gaidar, kosb: the libraries of the example plan with e-mail
ME = "me@my-library.ru"
ADDRESS_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# Two libraries and a project office with events in the week of 20 May 2024; library B and the office
# have no e-mail.
OWN_PLAN = """\
plan: {id: plan-2024, title: План на 2024 год, year: 2024, timezone: Europe/Kaliningrad}
organizations:
  - {id: lib-a, name: ГБУК «Библиотека А», short_name: Библиотека А, kind: library,
     contacts: {emails: [a@lib-a.ru]}}
  - {id: lib-b, name: ГБУК «Библиотека Б», short_name: Библиотека Б, kind: library}
  - {id: office, name: Проектный офис, short_name: Проектный офис, kind: project-office}
events:
  - {key: e1, title: Семинар А, date: 21 мая, organizers: [lib-a]}
  - {key: e2, title: Семинар Б, date: 22 мая, organizers: [LIB_B]}
  - {key: e3, title: Совещание офиса, date: 23 мая, organizers: [office]}
"""


def own_setup(work: Path, *, lib_b_mail: bool = True, extra: str = "") -> Path:
    """A config and a plan written by hand (real-looking addresses: nothing here is a placeholder)."""
    plan = OWN_PLAN.replace("LIB_B", "lib-b")
    if lib_b_mail:
        plan = plan.replace("kind: library}", "kind: library, contacts: {emails: [b@lib-b.ru]}}")
    (work / "plan.yaml").write_text(plan, encoding="utf-8")
    config = work / "plansync.yaml"
    config.write_text(
        "plans: [plan.yaml]\nstate_dir: state\n"
        'mail:\n  from: "Сводный план <plan@konb-region.ru>"\n  reply_to: "НМО <nmo@konb-region.ru>"\n'
        + extra,
        encoding="utf-8",
    )
    return config


def smtp_env(server: SMTPServer | int, security: str | None = None) -> dict[str, str]:
    port = server if isinstance(server, int) else server.port
    env = {"PLANSYNC_SMTP_HOST": "127.0.0.1", "PLANSYNC_SMTP_PORT": str(port)}
    if security is not None:
        env["PLANSYNC_SMTP_SECURITY"] = security
    return env


def real_sender(config: Path) -> None:
    """Put a real sender and reply address in place of whatever `init` wrote."""
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"(\n\s*from:).*", r'\1 "Сводный план <plan@my-library.ru>"', text, count=1)
    text = re.sub(r"(\n\s*reply_to:).*", r'\1 "Координатор <nmo@my-library.ru>"', text, count=1)
    config.write_text(text, encoding="utf-8")


def set_mail_key(config: Path, line: str) -> None:
    """Add `line` (e.g. `redirect_to: x@y.ru`) under the top-level `mail:` section."""
    text = config.read_text(encoding="utf-8")
    assert re.search(r"(?m)^mail:\s*$", text), text
    config.write_text(re.sub(r"(?m)^mail:\s*$", f"mail:\n  {line}", text, count=1), encoding="utf-8")


def subject(data: bytes) -> str:
    return str(email.message_from_bytes(data, policy=email.policy.default)["Subject"])


# -- item 1: placeholders, and a trial mode ---------------------------------------------------------


def test_init_writes_placeholders_that_can_mail_nobody(installed: Installed, tmp_path: Path) -> None:
    work = empty_folder(tmp_path)
    done = installed.run("init", "--example", cwd=work)
    assert done.returncode == 0, done.stderr
    config = (work / "plansync.yaml").read_text(encoding="utf-8")
    assert "lib39" not in config, "the starter config must not carry another organisation's addresses"
    sender = re.search(r"(?m)^\s*from:\s*(.+)$", config)
    reply = re.search(r"(?m)^\s*reply_to:\s*(.+)$", config)
    assert sender and "@example.org" in sender[1], config
    assert reply and "@example.org" in reply[1], config
    plan = (work / "plan-2024.yaml").read_text(encoding="utf-8")
    found = ADDRESS_RE.findall(plan)
    assert found, "the example plan keeps its contacts' addresses, as placeholders"
    assert all(a.endswith("@example.org") for a in found), found


def test_smtp_refuses_the_placeholder_sender(installed: Installed, tmp_path: Path, relay: SMTPServer) -> None:
    work = empty_folder(tmp_path)
    installed.run("init", "--example", cwd=work)
    done = installed.run("digest", "--as-of", WEEK, cwd=work, env=smtp_env(relay, "none"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "mail.from" in done.stderr and "example.org" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert relay.messages == []


def test_smtp_sends_nothing_to_placeholder_recipients(
    installed: Installed, tmp_path: Path, relay: SMTPServer
) -> None:
    work = empty_folder(tmp_path)
    installed.run("init", "--example", cwd=work)
    real_sender(work / "plansync.yaml")
    done = installed.run("digest", "--as-of", WEEK, cwd=work, env=smtp_env(relay, "none"))
    assert relay.messages == [], [m.rcpt_tos for m in relay.messages]
    assert "placeholder" in done.stdout, done.stdout
    assert done.returncode == 4, done.stdout + done.stderr  # a person must put real addresses in


def test_a_trial_sends_every_digest_to_one_address_and_counts_for_nothing(
    installed: Installed, tmp_path: Path, relay: SMTPServer
) -> None:
    work = empty_folder(tmp_path)
    installed.run("init", "--example", cwd=work)
    real_sender(work / "plansync.yaml")
    trial = installed.run(
        "digest", "--as-of", WEEK, "--redirect-to", ME, cwd=work, env=smtp_env(relay, "none")
    )
    assert trial.returncode == 0, trial.stdout + trial.stderr
    assert "trial" in trial.stdout.lower() and ME in trial.stdout, trial.stdout
    assert len(relay.messages) == EXAMPLE_LIBRARIES
    for message in relay.messages:
        assert message.rcpt_tos == (ME,)
        title = subject(message.data)
        assert "проба" in title.lower() and "@example.org" in title, title  # whose digest it is
    again = installed.run(
        "digest", "--as-of", WEEK, "--redirect-to", ME, cwd=work, env=smtp_env(relay, "none")
    )
    assert again.returncode == 0 and len(relay.messages) == EXAMPLE_LIBRARIES, "a trial goes out once too"
    real = installed.run("digest", "--as-of", WEEK, cwd=work)  # the outbox: placeholders are fine there
    assert real.returncode == 0, real.stdout + real.stderr
    assert f"{EXAMPLE_LIBRARIES} sent" in real.stdout and "already-sent" not in real.stdout, real.stdout


def test_mail_redirect_to_in_the_config_is_the_same_trial(
    installed: Installed, tmp_path: Path, relay: SMTPServer
) -> None:
    work = empty_folder(tmp_path)
    installed.run("init", "--example", cwd=work)
    real_sender(work / "plansync.yaml")
    set_mail_key(work / "plansync.yaml", f"redirect_to: {ME}")
    done = installed.run("digest", "--as-of", WEEK, cwd=work, env=smtp_env(relay, "none"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert ME in done.stdout and {m.rcpt_tos for m in relay.messages} == {(ME,)}


# -- item 2: a state folder per config --------------------------------------------------------------


def test_each_init_folder_keeps_its_own_state(installed: Installed, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = empty_folder(tmp_path, "a"), empty_folder(tmp_path, "b")
    for folder in (first, second):
        assert installed.run("init", "--example", cwd=folder, home=home).returncode == 0
    trial = installed.run("digest", "--as-of", WEEK, cwd=first, home=home)
    assert f"{EXAMPLE_LIBRARIES} sent" in trial.stdout, trial.stdout
    other = installed.run("digest", "--as-of", WEEK, cwd=second, home=home)
    assert other.returncode == 0, other.stdout + other.stderr
    assert f"{EXAMPLE_LIBRARIES} sent" in other.stdout and "already-sent" not in other.stdout, other.stdout
    assert (first / "state").is_dir() and (second / "state").is_dir()  # beside each config


def test_status_warns_when_two_configs_share_one_state_folder(installed: Installed, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = empty_folder(tmp_path, "a"), empty_folder(tmp_path, "b")
    for folder in (first, second):
        own_setup(folder)
        text = (folder / "plansync.yaml").read_text(encoding="utf-8")
        (folder / "plansync.yaml").write_text(text.replace("state_dir: state", "state_dir: ../shared"))
        done = installed.run("digest", "--as-of", "2024-05-17", cwd=folder, home=home)
        assert done.returncode == 0, done.stdout + done.stderr
    assert str(first / "plansync.yaml") in done.stderr, "the second digest run warns at once"
    status = installed.run("status", cwd=second, home=home)
    assert "warning" in status.stdout.lower() and str(first / "plansync.yaml") in status.stdout, status.stdout
    data = json.loads(installed.run("status", "--json", cwd=second, home=home).stdout)
    assert data["shared_with"] == [str(first / "plansync.yaml")]


# -- item 3: exit statuses cron can act on ----------------------------------------------------------


def test_a_library_with_events_and_no_email_ends_the_run_with_status_4(
    installed: Installed, tmp_path: Path
) -> None:
    work = empty_folder(tmp_path)
    own_setup(work, lib_b_mail=False)
    done = installed.run("digest", "--as-of", "2024-05-17", cwd=work)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "lib-b" in done.stdout and "no e-mail" in done.stdout
    # A project office without e-mail is listed, but it never gets digests: not a failure.
    work2 = empty_folder(tmp_path, "work2")
    own_setup(work2, lib_b_mail=True)
    fine = installed.run("digest", "--as-of", "2024-05-17", cwd=work2)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "office" in fine.stdout


def test_a_digest_waiting_in_its_backoff_exits_75_and_says_resend_sends_it_now(
    installed: Installed, tmp_path: Path
) -> None:
    work = empty_folder(tmp_path)
    own_setup(work)
    closed = smtp_env(free_port(), "none")  # nobody listens there
    first = installed.run("digest", "--as-of", "2024-05-17", cwd=work, env=closed)
    assert first.returncode == 75, first.stdout + first.stderr
    waiting = installed.run("digest", "--as-of", "2024-05-17", cwd=work, env=closed)
    assert waiting.returncode == 75, waiting.stdout + waiting.stderr
    lines = [line for line in waiting.stdout.splitlines() if line.strip().startswith("waiting")]
    assert lines and all("--resend" in line for line in lines), waiting.stdout


# -- item 5: a settings error is not a message's failure ------------------------------------------


def test_starttls_against_a_plain_relay_holds_nothing_once_the_settings_are_fixed(
    installed: Installed, tmp_path: Path, relay: SMTPServer
) -> None:
    work = empty_folder(tmp_path)
    own_setup(work)
    wrong = installed.run("digest", "--as-of", "2024-05-17", cwd=work, env=smtp_env(relay))  # starttls
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    said = wrong.stdout + wrong.stderr
    assert "STARTTLS" in said and "mail.smtp.security" in said, said
    assert relay.messages == []
    fixed = installed.run("digest", "--as-of", "2024-05-17", cwd=work, env=smtp_env(relay, "none"))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr  # no --resend needed
    assert sorted(m.rcpt_tos for m in relay.messages) == [("a@lib-a.ru",), ("b@lib-b.ru",)]


# -- small: what status and the outbox tell -----------------------------------------------------------


def test_status_lists_the_digests_already_sent_in_plain_cyrillic(
    installed: Installed, tmp_path: Path
) -> None:
    work = empty_folder(tmp_path)
    own_setup(work)
    sent = installed.run("digest", "--as-of", "2024-05-17", cwd=work)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    text = installed.run("status", cwd=work).stdout
    assert "sent" in text and "a@lib-a.ru" in text and "b@lib-b.ru" in text, text
    raw = installed.run("status", "--json", cwd=work).stdout
    assert "\\u04" not in raw and "План на" in raw, raw
    sent_list = json.loads(raw)["digests"]["sent"]
    assert {entry["recipient"] for entry in sent_list} == {"a@lib-a.ru", "b@lib-b.ru"}
    assert all(entry["period"].startswith("2024-05-20") for entry in sent_list)


def test_the_outbox_is_named_by_its_full_path_and_holds_eml_files(
    installed: Installed, tmp_path: Path
) -> None:
    work = empty_folder(tmp_path)
    own_setup(work, extra="  outbox: outbox\n")
    done = installed.run("digest", "--as-of", "2024-05-17", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"via outbox {work / 'outbox'}" in done.stdout, done.stdout
    files = sorted((work / "outbox" / "new").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files), files  # a mail client opens them
