"""The demo steps of releases and complaints: idempotent, graceful without users or an event."""
from __future__ import annotations

from app.complaints.models import PublicComplaint
from app.extensions import db
from app.releases.models import Release
from tests.factories import make_user
from tests.test_responses_support import Reporter, create_event


def _run(app):
    from app.complaints.demo import load_complaints
    from app.releases.demo import load_releases

    said = []
    with app.app_context():
        load_releases(said.append)
        load_complaints(said.append)
    return said


def test_demo_without_users_skips(app):
    said = _run(app)
    assert said[0].startswith("缺少演示用户") and said[1].startswith("缺少")


def test_demo_publishes_a_bulletin_and_files_complaints(app, client, auth):
    headers = auth.token("coordinator", "140000", username="reporter")
    event_id = create_event(client, headers, ["140105"])
    Reporter(client, headers, event_id)("140105", deaths=2)
    with app.app_context():
        make_user("coordinator", "140000", "coordinator")
        make_user("admin", "000000", "admin")
    said = _run(app)
    assert "/public/releases/" in said[0] and "已答复" in said[1]
    assert "已存在" in _run(app)[0]
    with app.app_context():
        assert [r.status for r in db.session.query(Release).all()] == ["approved"]
        assert sorted(c.status for c in db.session.query(PublicComplaint).all()) == ["answered", "open"]
    assert client.get("/public/").status_code == 200
