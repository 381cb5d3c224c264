"""The second host (issue 19 points 4 and 5), for real: two application instances over one
PostgreSQL, each a gunicorn on a port of its own with its scheduler process beside it.

- Both gunicorns run ``wsgi:app`` with the same ``DATABASE_URL`` and secret key and their own
  instance and photo folders (``JIUZAI_INSTANCE_PATH``, ``JIUZAI_REPORT_PHOTO_DIR``).
- Instance A's scheduler is ``flask --app wsgi scheduler run`` started through
  ``tests/second_host_scheduler.py``, which adds one test-only hook: after five payments of the
  roll it stops dead and says so. Instance B's scheduler is the plain command.
- The roll is due now on the real clock, by configuration only: ``SCHEDULER_TRIGGERS`` pins
  ``cycles.rolls`` to one fire time (this minute, so the scheduler's start-up catch-up runs it)
  and the cycle is set up to be disbursing an hour before it. ``SCHEDULER_LEASE_SECONDS`` (3) and
  ``SCHEDULER_STALE_SECONDS`` (4) are shortened so that the hand-over takes seconds, not minutes,
  in the same order as the defaults (60 and 600): the scheduler that takes the lease over resumes
  the roll at start-up if A's claim is stale by then, else at its next sweep.

A holds the lease and is killed (SIGKILL) in the middle of the roll; B, on standby meanwhile,
takes the lease over once it expires and resumes the roll: one roll, every household paid once,
the fund ledger balanced. Photos uploaded over HTTP to either instance are downloaded over HTTP
from the other, and neither instance wrote a file on its own disk. Waits are events (a line a
process prints, a port answering) polled with deadlines, never sleeps.
"""
from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from tests.waiting import wait_until
from tests.conftest import PASSWORD
from tests.test_cycles_scheduler import _setup_disbursing
from tests.test_reports_photos import png

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SH = ZoneInfo("Asia/Shanghai")
ROLLS = "cycles.rolls"
STOP_AFTER = 5  # payments instance A makes before it dies
DEADLINE = 60  # seconds any one wait may take


class Process:
    """A child process whose output lines are read as they come, for :meth:`expect`."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.log = name, log
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with open(self.log, "w", encoding="utf-8") as out:
            for line in self.popen.stdout:
                out.write(line)
                out.flush()
                self.lines.put(line.rstrip("\n"))

    def expect(self, text: str, timeout: float = DEADLINE) -> str:
        """The first line (from now on) containing ``text``; fails when the deadline passes."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.name} did not say {text!r} within {timeout} s "
                                     f"(exit code {self.popen.poll()}):\n{self.log.read_text()}") from None
            self.seen.append(line)
            if text in line:
                return line

    def say(self, line: str) -> None:
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(method: str, url: str, *, headers=None, body: bytes | None = None, json_body=None):
    """``(status, headers, body)`` of one request; 4xx and 5xx are answers, not exceptions."""
    headers = dict(headers or {})
    if json_body is not None:
        body, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _wait_healthy(base: str, server: Process) -> None:
    def healthy() -> bool:
        assert server.popen.poll() is None, server.log.read_text()
        try:
            status, _headers, body = _http("GET", f"{base}/healthz")
        except OSError:
            return False  # not listening yet
        return status == 200 and json.loads(body)["engine"] == "postgresql"

    wait_until(healthy, within=DEADLINE, seen=lambda: f"{server.name} did not answer /healthz")


def _multipart(field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _photos_cross_over(base_a: str, base_b: str, event_id: int, username: str) -> int:
    """Photos uploaded over HTTP to each instance, every one downloaded from both."""
    status, _h, body = _http("POST", f"{base_a}/api/v1/auth/token",
                             json_body={"username": username, "password": PASSWORD})
    assert status == 200, body
    auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}  # issued by A, used on B too
    as_of = (datetime.now(SH) - timedelta(minutes=5)).replace(tzinfo=None, microsecond=0).isoformat()
    status, _h, body = _http("POST", f"{base_b}/api/v1/events/{event_id}/reports", headers=auth, json_body={
        "region_code": "140105", "kind": "initial", "as_of": as_of, "figures": {"affected_population": 5}})
    assert status == 201, body
    upload = f"/api/v1/events/{event_id}/reports/{json.loads(body)['id']}/photos"
    sent = {}
    for base, seeds in ((base_a, range(40, 43)), (base_b, range(50, 52))):
        for seed in seeds:
            content, kind = _multipart("file", f"p{seed}.png", png(seed), "image/png")
            status, _h, body = _http("POST", base + upload, headers={**auth, "Content-Type": kind}, body=content)
            assert status == 201, body
            sent[json.loads(body)["url"]] = png(seed)
    for url, content in sent.items():
        for base in (base_a, base_b):
            status, headers, body = _http("GET", base + url, headers=auth)
            assert (status, headers["Content-Type"], body) == (200, "image/png", content), (base, url)
    return len(sent)


def _files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _roll_runs(app) -> list[tuple]:
    from app.scheduler import JobRun

    with app.app_context():
        rows = db.session.execute(select(JobRun.period_key, JobRun.status, JobRun.attempts, JobRun.claimed_by)
                                  .where(JobRun.job_id == ROLLS)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def _payments(app) -> int:
    from app.cycles.models import Payment

    with app.app_context():
        count = db.session.scalar(select(func.count(Payment.id)))
        db.session.remove()
    return count


def _due(app, cycle_id: int, fire: datetime) -> int:
    from app.cycles.models import Cycle
    from app.cycles.service.disbursement import due_unpaid

    with app.app_context():
        count = len(due_unpaid(db.session.get(Cycle, cycle_id), fire))
        db.session.remove()
    return count


def _check_paid_once(app, fire: datetime, due: int) -> None:
    from app.cycles.models import FundEntry, FundLine, Payment, PaymentRoll

    with app.app_context():
        rolls = db.session.execute(select(PaymentRoll.period, PaymentRoll.status, PaymentRoll.payment_count)).all()
        assert rolls == [(fire.date().isoformat(), "complete", due)]
        keys = db.session.execute(select(Payment.household_id, Payment.period)).all()
        assert len(keys) == len(set(keys)) == due
        paid = db.session.scalar(select(func.sum(Payment.amount_fen)))
        line = db.session.scalar(select(FundLine))
        assert paid > 0 and line.spent_fen == paid and line.balance_fen == line.budget_fen - paid
        assert db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.kind == "payment")) == due
        db.session.remove()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_instances_one_scheduler_killed_mid_roll(pg_url, tmp_path):
    from flask_migrate import upgrade

    from tests.factories import make_user, seed_geography

    # the roll's one fire time: this minute, Beijing time; the cycle disburses from an hour before
    fire = datetime.now(SH).replace(second=0, microsecond=0)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIUZAI_")}
    shared = {**environment, "PYTHONUNBUFFERED": "1", "DATABASE_URL": pg_url,
              "JIUZAI_SECRET_KEY": secrets.token_hex(32),  # the same key on both hosts
              "JIUZAI_SCHEDULER_TRIGGERS": json.dumps({ROLLS: {
                  "year": fire.year, "month": fire.month, "day": fire.day, "hour": fire.hour, "minute": fire.minute}}),
              "JIUZAI_SCHEDULER_LEASE_SECONDS": "3", "JIUZAI_SCHEDULER_STALE_SECONDS": "4"}
    hosts = {}
    for name in ("a", "b"):
        (tmp_path / name / "instance").mkdir(parents=True)
        hosts[name] = {**shared, "JIUZAI_INSTANCE_PATH": str(tmp_path / name / "instance"),
                       "JIUZAI_REPORT_PHOTO_DIR": str(tmp_path / name / "photos")}
    processes: list[Process] = []

    def start(name, argv, env):
        process = Process(name, argv, env, tmp_path / f"{name}.log")
        processes.append(process)
        return process

    setup = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg_url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"},
                       instance_path=str(tmp_path / "setup"))
    try:
        # each process imports the application for seconds, so they start while the database is
        # made: the gunicorns, and A's scheduler, which starts scheduling once the roll is set up;
        # B's scheduler starts once A holds the lease
        bases, servers = {}, {}
        for name in ("a", "b"):
            port = _free_port()
            bases[name] = f"http://127.0.0.1:{port}"
            servers[name] = start(f"gunicorn {name}", [str(BIN / "gunicorn"), "--workers", "1", "--threads", "4",
                                                       "--bind", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
                                  hosts[name])
        scheduler_a = start("scheduler a", [sys.executable, "-m", "tests.second_host_scheduler"],
                            {**hosts["a"], "JIUZAI_TEST_STOP_AFTER_PAYMENTS": str(STOP_AFTER)})
        with setup.app_context():
            upgrade()  # the schema as `flask db upgrade` makes it
            seed_geography()
            username = make_user("officer", "140105").username
            db.session.remove()
        cycle_id, _persons = _setup_disbursing(setup, opened=fire - timedelta(days=7, hours=1))
        with setup.app_context():
            from app.reports.models import Event

            event_id = db.session.scalar(select(Event.id))
            db.session.remove()
        due = _due(setup, cycle_id, fire)
        assert due > STOP_AFTER

        scheduler_a.expect("READY")
        scheduler_a.say("go")
        scheduler_a.expect("调度器运行中")  # A holds the lease; its start-up catch-up runs the roll
        scheduler_b = start("scheduler b", [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run"], hosts["b"])
        scheduler_a.expect(f"PAID {STOP_AFTER}")
        [(key, status, attempts, holder_a)] = _roll_runs(setup)
        assert (key, status, attempts) == (fire.strftime("%Y-%m-%dT%H:%M"), "running", 1)
        for name in ("a", "b"):
            _wait_healthy(bases[name], servers[name])

        # the web side of both instances goes on meanwhile: photos cross from one host to the other
        assert _photos_cross_over(bases["a"], bases["b"], event_id, username) == 5
        scheduler_b.expect("调度器待命")  # B stands by while A's lease is renewed
        assert _payments(setup) == STOP_AFTER and _roll_runs(setup)[0][1:3] == ("running", 1)

        scheduler_a.popen.kill()  # SIGKILL: no cleanup, no "failed" mark, its claim left running
        assert scheduler_a.popen.wait(30) == -signal.SIGKILL
        # A's lease expires; B takes it and resumes the roll once A's claim is stale
        holder_b = scheduler_b.expect("调度器运行中").split("（", 1)[1].split("）", 1)[0]
        wait_until(lambda: _roll_runs(setup)[0][1] == "done", within=DEADLINE,
                   seen=lambda: (_roll_runs(setup), scheduler_b.log.read_text()))
        assert _roll_runs(setup) == [(key, "done", 2, holder_b)] and holder_b != holder_a
        _check_paid_once(setup, fire, due)

        for name in ("a", "b"):  # no instance wrote a file of its own
            assert _files_under(tmp_path / name) == ["instance"], name
    finally:
        for process in reversed(processes):
            process.stop()
        with setup.app_context():
            db.engine.dispose()
