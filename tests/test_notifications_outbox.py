"""The notification outbox: written with the change, sent after commit, retried with back-off."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models_common import utcnow
from app.notifications import notify
from app.notifications.adapters import ADAPTERS
from app.notifications.delivery import deliver_due
from app.notifications.models import Delivery, Notification
from tests.factories import make_user


class Recorder:
    """An adapter that records what it sends, and fails while ``failing`` is set."""

    sent: list = []
    failing = False

    def send(self, user, title, body, link):
        if Recorder.failing:
            raise ConnectionError("gateway down")
        Recorder.sent.append((user.username, title))


@pytest.fixture
def recorder(app, monkeypatch):
    monkeypatch.setitem(ADAPTERS, "record", Recorder)
    app.config["NOTIFIER_ADAPTERS"] = ["record"]
    Recorder.sent, Recorder.failing = [], False
    return Recorder


def _notify(title="灾情告警"):
    user = make_user("coordinator", username="receiver")
    made = notify([user], "alert", title, "正文")
    return user, made


def test_nothing_is_sent_inside_the_transaction_and_a_rollback_sends_nothing(app, recorder):
    with app.app_context():
        _notify("回滚的告警")
        assert recorder.sent == []  # notify never calls an adapter
        db.session.rollback()
        assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        assert recorder.sent == [] and db.session.query(Notification).count() == 0


def test_a_committed_notification_is_sent_once_after_commit(app, recorder):
    with app.app_context():
        _notify()
        db.session.commit()
        assert deliver_due()["sent"] == 1 and deliver_due()["sent"] == 0

        delivery = db.session.query(Delivery).one()
        assert recorder.sent == [("receiver", "灾情告警")]
        assert delivery.status == "sent" and delivery.attempts == 1 and delivery.sent_at is not None


def test_failures_wait_twice_as_long_each_time_then_fail_and_the_notification_stays(app, recorder):
    app.config.update(NOTIFY_RETRY_SECONDS=60, NOTIFY_MAX_ATTEMPTS=3)
    with app.app_context():
        _notify()
        db.session.commit()
        recorder.failing = True
        start = utcnow()

        assert deliver_due(start)["retry"] == 1
        delivery = db.session.query(Delivery).one()
        assert delivery.next_attempt_at == start + timedelta(seconds=60)
        assert deliver_due(start + timedelta(seconds=59))["retry"] == 0  # not due yet
        assert deliver_due(start + timedelta(seconds=60))["retry"] == 1
        db.session.refresh(delivery)
        assert delivery.next_attempt_at == start + timedelta(seconds=180)  # 60 s later, then 120 s
        assert deliver_due(start + timedelta(seconds=180))["failed"] == 1
        db.session.refresh(delivery)
        assert delivery.status == "failed" and "gateway down" in delivery.last_error
        assert deliver_due(start + timedelta(days=2)) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        assert db.session.query(Notification).count() == 1 and recorder.sent == []


def test_a_delivery_claimed_by_a_process_that_died_is_due_again_after_the_lease(app, recorder):
    app.config["NOTIFY_CLAIM_SECONDS"] = 600
    with app.app_context():
        _notify()
        db.session.commit()
        start = utcnow()
        from app.notifications.delivery import _claim

        delivery_id = db.session.query(Delivery.id).scalar()
        assert _claim(delivery_id, start)  # ... and the process dies before sending
        assert not _claim(delivery_id, start)  # nobody else takes it during the lease
        assert deliver_due(start + timedelta(seconds=599))["sent"] == 0
        assert deliver_due(start + timedelta(seconds=600))["sent"] == 1
        assert recorder.sent == [("receiver", "灾情告警")]


def test_one_delivery_per_adapter_and_the_job_and_cli_send(app, recorder, runner):
    from app.jobs import JOBS

    app.config["NOTIFIER_ADAPTERS"] = ["record", "log"]
    with app.app_context():
        _notify()
        db.session.commit()
        assert sorted(d.adapter for d in db.session.query(Delivery)) == ["log", "record"]
    result = runner.invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0 and "已发送 2" in result.output
    assert "notifications.deliver" in {job.id for job in JOBS}
    assert "pending 0，sent 2，failed 0" in runner.invoke(args=["notifications", "outbox"]).output
