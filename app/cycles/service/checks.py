"""The township's house-by-house check for reconstruction (逐户核查, domain.md §4): within
``CYCLE_RECONSTRUCTION_CHECK_DAYS`` (15) days of the event's stabilisation a user of the
township records, for each house put forward, who checked it, photos, and the damage class
confirmed or changed, or excludes it with the reason (long-empty houses, second homes, kitchens,
sheds, temporary structures: :data:`~app.cycles.rules.EXCLUSIONS`). A check after the deadline
needs a reason and is marked late. The cycle goes on to 民主评议 only when every house is checked
(the state machine's guard); the roll pays by the class the check found.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ... import audit, storage
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...reports import Event
from ...validation import Field, validate
from ...uploads import read_images
from ..models import Beneficiary, Cycle, HouseCheck, HouseCheckPhoto
from ..rules import DAMAGE_CLASSES, EXCLUSIONS, assess
from .base import get_cycle, may_act_on_cycle, refuse, region_names, show_id
from .beneficiaries import cycle_beneficiaries

CHECK_FIELDS = {
    "household_id": Field("int", min=1, description="受灾户"),
    "found_class": Field("str", choices=tuple(DAMAGE_CLASSES), description="核查认定的房屋倒损等级"),
    "exclusion": Field("str", required=False, choices=tuple(EXCLUSIONS),
                       description="排除情形：long_empty 长期空置 / second_home 非主要居所 / kitchen 厨房 / "
                                   "shed 圈舍杂物棚 / temporary 临时建筑 / other 其他"),
    "reason": Field("str", required=False, default="", max_length=2000, multiline=True,
                    description="排除或改变等级的理由（排除、改变等级时必填）"),
    "checkers": Field("str", max_length=200, description="核查人员（姓名）"),
    "late_reason": Field("str", required=False, default="", max_length=2000, multiline=True,
                         description="超过核查期限的原因（期满后必填）"),
}


def check_deadline(cycle: Cycle) -> datetime | None:
    """The end of the check period: the event's stabilisation plus the configured days (``None``
    while the event is not yet stable)."""
    event = db.session.get(Event, cycle.event_id) if cycle.event_id else None
    return _deadline_after(event)


def check_deadlines_of(cycles: list[Cycle]) -> dict[int, datetime | None]:
    """:func:`check_deadline` of each of ``cycles`` by cycle id, their events read in one query."""
    event_ids = {c.event_id for c in cycles if c.event_id}
    events = {e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(event_ids)))} if event_ids else {}
    return {c.id: _deadline_after(events.get(c.event_id)) for c in cycles}


def _deadline_after(event: Event | None) -> datetime | None:
    if event is None or event.stabilised_at is None:
        return None
    return event.stabilised_at + timedelta(days=current_app.config["CYCLE_RECONSTRUCTION_CHECK_DAYS"])


def _read_photos(uploads, errors: list[dict]) -> list[tuple[str, bytes]]:
    config = current_app.config
    return read_images(uploads, errors, count=config["CYCLE_CHECK_PHOTO_COUNT"],
                       max_bytes=config["CYCLE_CHECK_PHOTO_MAX_BYTES"], at_least=config["CYCLE_CHECK_MIN_PHOTOS"])


def record_check(user, cycle_id: int, data, uploads=None) -> HouseCheck:
    """Record the check of one house (a multipart form: :data:`CHECK_FIELDS` and ``photos``) by a
    user of the house's township; the household's eligibility follows the check."""
    cycle = get_cycle(user, cycle_id, "reconstruction.check")
    values, errors = validate(CHECK_FIELDS, data)
    photos = _read_photos(uploads, errors)
    rules = []
    changed = values["found_class"] is not None and values.get("household_id") is not None
    if values["exclusion"] and not values["reason"]:
        rules.append({"field": "reason", "message": "排除须写明理由"})
    now = utcnow()
    deadline = check_deadline(cycle) if cycle.kind == "reconstruction" else None
    late = deadline is not None and now > deadline
    if late and not values["late_reason"]:
        rules.append({"field": "late_reason", "message": f"已超过核查期限（{deadline.isoformat()}），须说明原因"})
    refuse(errors, "核查有 {n} 处错误。", rules)
    if cycle.kind != "reconstruction":
        raise Conflict("只有倒损住房恢复重建需要逐户核查。")
    if cycle.status not in ("draft", "survey"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，逐户核查在申请阶段进行。")
    row = db.session.scalar(select(Beneficiary).filter_by(cycle_id=cycle.id, household_id=values["household_id"]))
    if row is None:
        raise Invalid("该户未登记在本周期。", [{"field": "household_id", "message": "该户未登记在本周期"}])
    require(user, "reconstruction.check", row.household.village_code)
    registered = row.household.damage_class
    if changed and values["found_class"] != registered and not values["reason"] and not values["exclusion"]:
        raise Invalid("改变倒损等级须写明理由。", [{"field": "reason", "message": "改变倒损等级须写明理由"}])
    check = HouseCheck(cycle_id=cycle.id, household_id=row.household_id, checked_at=now,
                       checked_by_id=getattr(user, "id", None), checked_by=getattr(user, "username", "system"),
                       checkers=values["checkers"], registered_class=registered, found_class=values["found_class"],
                       exclusion=values["exclusion"] or None, reason=values["reason"] or "", late=late,
                       late_reason=(values["late_reason"] or None) if late else None, photo_count=len(photos))
    db.session.add(check)
    db.session.flush()
    written = []
    with storage.discarded_on_failure(written):  # bytes written outside the database (S3) go with the rows
        for kind, content in photos:
            key = photo_key(check.id, kind, content)
            if storage.put(key, content, kind)[1]:
                written.append(key)
            db.session.add(HouseCheckPhoto(check_id=check.id, content_type=kind, size=len(content), stored_key=key))
        _apply(row, check)
        audit.record(user, "reconstruction.check", "relief_cycle", cycle.id, after=check.to_dict(),
                     region_code=row.household.village_code)
        db.session.commit()
    return check


def photo_key(check_id: int, content_type: str, content: bytes) -> str:
    """Where a check's photo is kept in the file store (one file per content hash and check)."""
    return f"cycles/checks/{check_id}/{hashlib.sha256(content).hexdigest()[:32]}.{content_type.split('/')[1]}"


def _apply(row: Beneficiary, check: HouseCheck) -> None:
    """The household as the check found it: excluded, or assessed by the class found."""
    row.checked_at, row.checked_damage_class, row.excluded = check.checked_at, check.found_class, bool(check.exclusion)
    if check.exclusion:
        row.eligible, row.work_type = False, None
        row.reasons = [f"核查排除：{EXCLUSIONS[check.exclusion]}（{check.reason}）"]
        return
    result = assess("reconstruction", {**row.household.facts(), "damage_class": check.found_class})
    row.eligible, row.reasons, row.work_type = result.eligible, list(result.reasons), result.work_type
    row.priority = result.priority


def latest_checks(cycle_id: int) -> dict[int, HouseCheck]:
    """The latest check of each household of a cycle."""
    rows = db.session.scalars(select(HouseCheck).where(HouseCheck.cycle_id == cycle_id).order_by(HouseCheck.id)).all()
    return {c.household_id: c for c in rows}


def checks_page(user, cycle_id: int) -> dict:
    """The check page (逐户核查): every house put forward, its latest check, the deadline, and
    which houses ``user`` may check (those of their township, while the cycle is in 申请)."""
    cycle = get_cycle(user, cycle_id)
    if cycle.kind != "reconstruction":
        raise NotFound("只有倒损住房恢复重建有逐户核查。")
    rows = cycle_beneficiaries(cycle.id)
    latest = latest_checks(cycle.id)
    open_ = cycle.status in ("draft", "survey")
    mine = {b.household_id for b in rows
            if open_ and can(user, "reconstruction.check", b.household.village_code)}
    deadline = check_deadline(cycle)
    return {"cycle": cycle, "rows": rows, "checks": latest, "mine": mine, "deadline": deadline,
            "late": deadline is not None and utcnow() > deadline, "show_id": show_id(user, cycle.region_code),
            "names": region_names(b.household.village_code for b in rows), "damage": DAMAGE_CLASSES,
            "exclusions": EXCLUSIONS, "pending": sum(1 for b in rows if b.household_id not in latest),
            "can_check": bool(mine) and may_act_on_cycle(user, cycle, "reconstruction.check")}


def check_photo(user, photo_id: int) -> storage.Blob:
    """A check's photo (its bytes and content type, from the file store), for those who may read
    the cycle."""
    photo = db.session.get(HouseCheckPhoto, photo_id)
    if photo is None:
        raise NotFound(f"照片 {photo_id} 不存在。")
    check = db.session.get(HouseCheck, photo.check_id)
    get_cycle(user, check.cycle_id)
    blob = storage.read(photo.stored_key)
    if blob is None:
        raise NotFound(f"照片 {photo_id} 不存在。")
    return blob


def check_photos(check_ids) -> dict[int, list[int]]:
    ids = list(check_ids)
    if not ids:
        return {}
    found: dict[int, list[int]] = {}
    for pid, cid in db.session.execute(select(HouseCheckPhoto.id, HouseCheckPhoto.check_id)
                                       .where(HouseCheckPhoto.check_id.in_(ids)).order_by(HouseCheckPhoto.id)).all():
        found.setdefault(cid, []).append(pid)
    return found
