"""The event snapshot kept up to date report by report (``app/dashboard/service/snapshot.py``):
after any sequence of new reports the patched snapshot answers byte for byte what a full read
gives (its ETag and gzip form too), and it is patched, not read again.

Reports go in as rows with ids of the test's choosing (as the ingest's bulk insert writes them),
so a sequence can commit a lower id after a higher one, as two submissions at once do. Reports
are never withdrawn, edited or rejected (append-only, no status): a village stays on the map
once it has reported, and a verified report (核报) correcting its figures to zero leaves it there
with severity 0, which the sequences include.
"""
from __future__ import annotations

import gzip
import random
from collections import OrderedDict
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, insert

from app.dashboard import service
from app.dashboard.service import snapshot as snapshots
from app.extensions import db
from app.regions.models import Region
from app.reports import FIELDS, LossReport
from tests.factories import make_user

TOWNSHIPS = ("140105001", "140105002", "140212001")
STARTED = datetime(2026, 7, 1, tzinfo=timezone.utc)


def _geography(rng: random.Random) -> list[str]:
    """Townships and 36 villages (a few without a location) beside the tiny test geography."""
    db.session.add(Region(code="140105002", name="东山乡", level="township", parent_code="140105",
                          population=9000, households=3100, lon=112.66, lat=37.64))
    db.session.add(Region(code="140212001", name="新荣镇", level="township", parent_code="140212",
                          population=20000, households=7000, lon=113.15, lat=40.26))
    villages = ["140105001200", "140105001201"]
    for township in TOWNSHIPS:
        for n in range(12):
            code = f"{township}{300 + n:03d}"
            located = rng.random() > 0.1
            db.session.add(Region(code=code, name=f"村{code[-5:]}\"引号\\", level="village", parent_code=township,
                                  population=rng.randint(0, 3000), households=rng.randint(0, 900),
                                  lon=112.5 + rng.random() if located else None,
                                  lat=37.5 + rng.random() if located else None))
            villages.append(code)
    db.session.commit()
    return villages


def _figures(rng: random.Random) -> dict:
    shape = rng.random()
    if shape < 0.15:
        return {name: 0 for name in FIELDS}  # a correction to zero
    if shape < 0.25:
        return {}  # every figure omitted (0)
    figures = {}
    for name in rng.sample(FIELDS, rng.randint(1, len(FIELDS))):
        figures[name] = rng.choice([0, rng.randint(1, 5), rng.randint(1, 5000), round(rng.random() * 900, 2),
                                    float(rng.randint(1, 90))])
    return figures


class Reports:
    """Report rows of one event, their ids handed out in order and committed in any order."""

    def __init__(self, event_id: int, rng: random.Random):
        self.event_id, self.rng = event_id, rng
        self.next_id, self.sequence, self.clock = 1, {}, STARTED

    def draft(self, code: str) -> dict:
        sequence = self.sequence[code] = self.sequence.get(code, 0) + 1
        self.clock += timedelta(minutes=self.rng.randint(1, 90), microseconds=self.rng.randint(0, 999_999))
        kind = "initial" if sequence == 1 else self.rng.choice(["update", "update", "final"])
        row = {"id": self.next_id, "event_id": self.event_id, "region_code": code, "kind": kind,
               "sequence": sequence, "as_of": self.clock, "figures": _figures(self.rng), "note": None,
               "submitted_by_id": None, "submitted_by": "test", "submitted_at": self.clock}
        self.next_id += 1
        return row

    def commit(self, rows: list[dict]) -> None:
        if rows:
            db.session.execute(insert(LossReport), rows)
            db.session.commit()


@contextmanager
def _fresh_cache(monkeypatch):
    """Answers read in full: an empty cache of snapshots for the duration."""
    with monkeypatch.context() as m:
        m.setattr(snapshots, "_cache", OrderedDict())
        m.setattr(snapshots, "_locks", {})
        yield


def _answers(users: list, event_id: int) -> dict:
    answers = {}
    for user in users:
        for figures in ("all", "key"):
            layer = service.villages_geojson(user, event_id, {"figures": figures})
            packed = layer.gzipped()
            assert gzip.decompress(packed) == layer.payload
            answers[user.username, figures] = (layer.payload, layer.etag, packed)
        answers[user.username, "counties"] = service.counties_geojson(user, event_id, {})
    answers["county_figures"] = service.county_figures(event_id)
    return answers


def _event(user) -> int:
    from app.reports.service import create_event

    event = create_event(user, {"name": "增量快照", "hazard": "flood", "started_at": STARTED.isoformat(),
                                "region_codes": ["140105", "140212"]})
    return event.id


@pytest.mark.parametrize("seed", range(4))
def test_patched_snapshot_answers_as_a_full_read(app, monkeypatch, seed):
    rng = random.Random(seed)
    with app.app_context():
        villages = _geography(rng)
        places = villages + list(TOWNSHIPS) + ["140105"]  # townships and a county report for themselves too
        admin = make_user("admin", "000000")
        users = [admin, make_user("coordinator", "140105"), make_user("officer", "140212001")]
        event_id = _event(admin)
        reports = Reports(event_id, rng)
        snapshots._cache.clear()
        reads = []
        real_load = snapshots._load_snapshot
        monkeypatch.setattr(snapshots, "_load_snapshot", lambda e: reads.append(e) or real_load(e))
        held_back: list[dict] = []  # drawn ids not committed yet: they commit after higher ones
        reports.commit([reports.draft(code) for code in rng.sample(villages, 8)])
        steps = 0
        for _ in range(30):
            batch = [reports.draft(rng.choice(places)) for _ in range(rng.choice([0, 1, 1, 2, 4]))]
            rng.shuffle(batch)
            late = [row for row in batch if rng.random() < 0.25]
            reports.commit([row for row in batch if row not in late] + held_back)
            held_back = late
            incremental = _answers(users, event_id)
            with _fresh_cache(monkeypatch):
                full = _answers(users, event_id)
            assert incremental == full
            steps += 1
        reports.commit(held_back)
        incremental = _answers(users, event_id)
        with _fresh_cache(monkeypatch):
            assert incremental == _answers(users, event_id)
        # one full read (the first request); every later request patched it, or found it current
        assert len(reads) == 1 + steps + 1, "full reads outside the fresh caches"


def test_a_report_committed_after_a_higher_id_is_taken_in(app, monkeypatch):
    rng = random.Random(7)
    with app.app_context():
        villages = _geography(rng)
        admin = make_user("admin", "000000")
        event_id = _event(admin)
        reports = Reports(event_id, rng)
        snapshots._cache.clear()
        first, second = reports.draft(villages[0]), reports.draft(villages[1])
        reports.commit([second])
        seen = service.villages_geojson(admin, event_id, {}).payload
        assert villages[1] in seen.decode() and villages[0] not in seen.decode()
        reports.commit([first])  # the lower id commits last
        patched = service.villages_geojson(admin, event_id, {}).payload
        made = snapshots.snapshot(event_id)
        assert villages[0] in made.villages["code"].tolist()
        assert list(made.known.ids) == [first["id"], second["id"]]
        with _fresh_cache(monkeypatch):
            assert service.villages_geojson(admin, event_id, {}).payload == patched


def test_a_database_whose_reports_were_replaced_is_read_again(app, monkeypatch):
    """The same ids again, other reports (a database restored, or a test's emptied tables): the
    newest report the snapshot read is not there as it was, so it is read in full."""
    rng = random.Random(3)
    with app.app_context():
        villages = _geography(rng)
        admin = make_user("admin", "000000")
        event_id = _event(admin)
        reports = Reports(event_id, rng)
        snapshots._cache.clear()
        reports.commit([reports.draft(code) for code in villages[:3]])
        service.villages_geojson(admin, event_id, {})
        if db.engine.dialect.name != "sqlite":
            pytest.skip("reports cannot be deleted on PostgreSQL (append-only trigger)")
        db.session.execute(delete(LossReport).where(LossReport.event_id == event_id))
        db.session.commit()
        again = Reports(event_id, rng)
        again.clock = reports.clock
        again.commit([again.draft(code) for code in villages[3:6]])
        answer = service.villages_geojson(admin, event_id, {}).payload.decode()
        assert all(code in answer for code in villages[3:6])
        assert not any(code in answer for code in villages[:3])


def test_many_new_regions_at_once_are_read_in_full(app, monkeypatch):
    rng = random.Random(5)
    with app.app_context():
        villages = _geography(rng)
        admin = make_user("admin", "000000")
        event_id = _event(admin)
        reports = Reports(event_id, rng)
        snapshots._cache.clear()
        reports.commit([reports.draft(villages[0])])
        first = snapshots.snapshot(event_id)
        monkeypatch.setattr(snapshots, "PATCH_MAX_REGIONS", 3)
        reports.commit([reports.draft(code) for code in villages[1:4]])
        patched = snapshots.snapshot(event_id)
        assert patched.read_at == first.read_at and len(patched.villages) == 4
        reports.commit([reports.draft(code) for code in villages[4:8]])
        assert snapshots.snapshot(event_id).read_at > first.read_at
