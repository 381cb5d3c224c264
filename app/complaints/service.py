"""Complaints and tips from the public (投诉举报, domain.md §3b): filed without signing in,
routed to the county named, handled within ``COMPLAINT_WORKING_DAYS`` working days, escalated to
the level above when overdue, answered; the complainant follows it by ticket number.

Who complained is seen only by those with ``complaint.view_identity`` (coordinators and admins);
officers, who may be the person complained about, see no complaint at all, and the cycle
complaint that holds a household's payments carries the ticket, never the complainant."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from gis import codes

from .. import audit, storage
from ..cycles import hold_household, household_choices, release_holds
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models_common import utcnow
from ..notifications import coordinators_covering, notify
from ..permissions import can, require
from ..regions import Region
from ..validation import Field, validate
from ..uploads import read_images
from .models import COMPLAINT_MACHINE, KINDS, PROGRAMMES, SUBJECTS, ComplaintPhoto, PublicComplaint

FILE_FIELDS = {
    "kind": Field("str", choices=tuple(KINDS), description="投诉或举报"),
    "subject": Field("str", choices=tuple(SUBJECTS), description="事项"),
    "programme": Field("str", required=False, default="other", choices=tuple(PROGRAMMES), description="救助项目"),
    "region_code": Field("code", description="所在县（市、区）"),
    "household_named": Field("str", required=False, default="", max_length=100, description="涉及的户（户主姓名、村）"),
    "content": Field("str", max_length=2000, multiline=True, description="投诉举报内容"),
    "anonymous": Field("bool", required=False, default=False, description="匿名"),
    "name": Field("str", required=False, default="", max_length=60, description="姓名"),
    "contact": Field("str", required=False, default="", max_length=60, description="联系方式"),
}
LINK_FIELDS = {"household_id": Field("int", min=1, description="受灾户")}
ANSWER_FIELDS = {"answer": Field("str", max_length=4000, multiline=True, description="答复")}
TICKET_FIELDS = {"ticket": Field("str", max_length=24, pattern=r"^[A-Za-z0-9-]+$", description="受理编号")}
#: An answer is shown on a public URL: no identity number, no phone number.
PERSONAL = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def working_day(day: date) -> bool:
    iso = day.isoformat()
    if iso in current_app.config.get("EXTRA_WORKDAYS", []):
        return True
    return day.weekday() < 5 and iso not in current_app.config.get("HOLIDAYS", [])


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (HOLIDAYS and EXTRA_WORKDAYS of the config)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if working_day(day):
            left -= 1
    return day


def county_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Region).where(Region.level == "county").order_by(Region.code)).all()
    return [(r.code, r.name) for r in rows]


def read_photos(uploads, errors: list[dict]) -> list[tuple[str, bytes]]:
    """The attached photos as ``(type, bytes)``: at most ``COMPLAINT_PHOTO_COUNT``, each an image
    of at most ``COMPLAINT_PHOTO_MAX_BYTES``; a refusal names ``photos``."""
    config = current_app.config
    return read_images(uploads, errors, count=config["COMPLAINT_PHOTO_COUNT"],
                       max_bytes=config["COMPLAINT_PHOTO_MAX_BYTES"])


def file_complaint(data, uploads=None) -> PublicComplaint:
    """A complaint from the public (no sign-in): registered, routed, given a ticket number."""
    values, errors = validate(FILE_FIELDS, data)
    photos = read_photos(uploads, errors)
    region = db.session.get(Region, values["region_code"]) if values.get("region_code") else None
    if values.get("region_code") and (region is None or region.level != "county"):
        errors.append({"field": "region_code", "message": "请选择所在的县（市、区）"})
    if errors:
        raise Invalid("投诉举报有误。", errors)
    anonymous = values["anonymous"]
    complaint = PublicComplaint(
        ticket=f"TS{_today():%Y%m%d}-{secrets.token_hex(4).upper()}", kind=values["kind"],
        subject=values["subject"], programme=values["programme"], region_code=region.code,
        household_named=values["household_named"], content=values["content"], anonymous=anonymous,
        name="" if anonymous else values["name"], contact="" if anonymous else values["contact"],
        due_on=add_working_days(_today(), current_app.config["COMPLAINT_WORKING_DAYS"]))
    db.session.add(complaint)
    db.session.flush()
    written = []
    with storage.discarded_on_failure(written):  # bytes written outside the database (S3) go with the rows
        for kind, content in photos:
            key = f"complaints/{complaint.id}/{hashlib.sha256(content).hexdigest()[:32]}.{kind.split('/')[1]}"
            if storage.put(key, content, kind)[1]:
                written.append(key)
            db.session.add(ComplaintPhoto(complaint_id=complaint.id, content_type=kind, size=len(content),
                                          stored_key=key))
        audit.record(None, "public_complaint.file", "public_complaint", complaint.id,
                     after={"ticket": complaint.ticket, "region_code": region.code}, region_code=region.code)
        notify(coordinators_covering(region.code), "complaint.received", "收到投诉举报 %(ticket)s",
               "%(subject)s，%(due)s 前答复。", f"/complaints/{complaint.id}",
               dedupe_key=f"public_complaint:{complaint.id}",
               params={"ticket": complaint.ticket, "subject": SUBJECTS[complaint.subject],
                       "due": complaint.due_on.isoformat()})
        db.session.commit()
    return complaint


def track(data) -> PublicComplaint | None:
    """The complaint a ticket number names (``None`` when no ticket is asked for yet)."""
    if not (data or {}).get("ticket"):
        return None
    values, errors = validate(TICKET_FIELDS, data)
    if errors:
        raise Invalid("受理编号有误。", errors)
    found = db.session.scalars(select(PublicComplaint).where(
        PublicComplaint.ticket == values["ticket"].upper())).first()
    if found is None:
        raise NotFound("没有这个受理编号，请核对后再查。")
    return found


def complaints_page(user, status: str | None = None) -> dict:
    """The complaints routed into the user's jurisdiction, overdue first."""
    require(user, "complaint.view", user.region_code)
    stmt = select(PublicComplaint).order_by(PublicComplaint.due_on, PublicComplaint.id)
    if status in ("open", "answered"):
        stmt = stmt.where(PublicComplaint.status == status)
    rows = [c for c in db.session.scalars(stmt).all() if codes.is_within(c.region_code, user.region_code)]
    return {"rows": rows, "today": _today(), "status": status, "subjects": SUBJECTS, "kinds": KINDS,
            "region_names": dict(county_choices())}


def home_panel(user) -> dict | None:
    """For those who handle complaints: how many are open in their jurisdiction, how many overdue."""
    if not can(user, "complaint.handle", user.region_code):
        return None
    rows = [c for c in db.session.scalars(select(PublicComplaint).where(PublicComplaint.status == "open")).all()
            if codes.is_within(c.region_code, user.region_code)]
    if not rows:
        return None
    today = _today()
    return {"template": "complaints/_home_panel.html", "open": len(rows),
            "overdue": sum(1 for c in rows if c.due_on < today)}


def get_complaint(user, complaint_id: int, action: str = "complaint.view") -> PublicComplaint:
    complaint = db.session.get(PublicComplaint, complaint_id)
    if complaint is None:
        raise NotFound(f"投诉举报 {complaint_id} 不存在。")
    require(user, action, complaint.region_code)
    return complaint


def photo_of(user, complaint_id: int, photo_id: int) -> tuple[bytes, ComplaintPhoto]:
    """A photo of a complaint (its bytes and its row), for those who may read the complaint."""
    complaint = get_complaint(user, complaint_id)
    photo = db.session.get(ComplaintPhoto, photo_id)
    if photo is None or photo.complaint_id != complaint.id:
        raise NotFound(f"照片 {photo_id} 不存在。")
    if photo.stored_key is None:  # filed before the file store
        return photo.content, photo
    blob = storage.read(photo.stored_key)
    if blob is None:
        raise NotFound(f"照片 {photo_id} 不存在。")
    return blob.content, photo


def complaint_page(user, complaint_id: int) -> dict:
    complaint = get_complaint(user, complaint_id)
    handle = can(user, "complaint.handle", complaint.region_code)
    region = db.session.get(Region, complaint.region_code)
    return {"complaint": complaint, "today": _today(), "kinds": KINDS, "subjects": SUBJECTS,
            "region_name": region.name if region else complaint.region_code,
            "photos": db.session.scalars(select(ComplaintPhoto.id).where(
                ComplaintPhoto.complaint_id == complaint.id).order_by(ComplaintPhoto.id)).all(),
            "programmes": PROGRAMMES, "can_handle": handle and complaint.status == "open",
            "show_identity": can(user, "complaint.view_identity", complaint.region_code),
            "households": household_choices(user, complaint.region_code)
            if handle and complaint.status == "open" and complaint.household_id is None else []}


def staff_dict(user, complaint: PublicComplaint) -> dict:
    """A complaint as the county reads it: who complained only with ``complaint.view_identity``."""
    identity = can(user, "complaint.view_identity", complaint.region_code) and not complaint.anonymous
    return {**complaint.public_dict(), "id": complaint.id, "kind": complaint.kind, "subject": complaint.subject,
            "programme": complaint.programme, "region_code": complaint.region_code,
            "household_named": complaint.household_named, "content": complaint.content,
            "anonymous": complaint.anonymous, "name": complaint.name if identity else None,
            "contact": complaint.contact if identity else None, "household_id": complaint.household_id,
            "escalation_level": complaint.escalation_level}


def link_household(user, complaint_id: int, data) -> PublicComplaint:
    """Name the household the complaint is about: its payments wait until the answer."""
    complaint = get_complaint(user, complaint_id, "complaint.handle")
    values, errors = validate(LINK_FIELDS, data)
    if errors:
        raise Invalid("请选择受灾户。", errors)
    if complaint.status != "open":
        raise Conflict("该投诉举报已答复。")
    if complaint.household_id is not None:
        raise Conflict("该投诉举报已关联受灾户。")
    if values["household_id"] not in {h for h, _ in household_choices(user, complaint.region_code)}:
        raise Invalid("请选择本县的受灾户。", [{"field": "household_id", "message": "不在本投诉举报所在县"}])
    complaint.household_id = values["household_id"]
    # the cycle page is read by officers too: it gets the matter, never the complainant's words
    complaint.cycle_complaint_ids = hold_household(user, values["household_id"], SUBJECTS[complaint.subject],
                                                   complaint.ticket)
    audit.record(user, "public_complaint.link", "public_complaint", complaint.id,
                 after={"household_id": complaint.household_id, "holds": complaint.cycle_complaint_ids},
                 region_code=complaint.region_code)
    db.session.commit()
    return complaint


def answer_complaint(user, complaint_id: int, data) -> PublicComplaint:
    """Answer: the complainant sees it by ticket; the household's payments are released."""
    complaint = get_complaint(user, complaint_id, "complaint.handle")
    values, errors = validate(ANSWER_FIELDS, data)
    if values.get("answer") and PERSONAL.search(values["answer"]):
        errors.append({"field": "answer", "message": "答复公开可查，不得包含身份证号或电话号码"})
    if errors:
        raise Invalid("答复有误。", errors)
    before, after = COMPLAINT_MACHINE.fire(complaint, "answer")
    complaint.answer, complaint.answered_at, complaint.answered_by_id = values["answer"], utcnow(), user.id
    release_holds(user, complaint.cycle_complaint_ids, f"公众投诉举报 {complaint.ticket} 已答复：{values['answer']}")
    audit.record(user, "public_complaint.answer", "public_complaint", complaint.id, before={"status": before},
                 after={"status": after}, region_code=complaint.region_code)
    db.session.commit()
    return complaint


def escalate_overdue(now: datetime) -> dict:
    """The scheduled job's work: an open complaint past its deadline goes to the level above
    (督办: the prefecture's coordinators); still open five working days later, to the level above
    that. Each step once (the notification's dedupe key and ``escalation_level``)."""
    today = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    rows = db.session.scalars(select(PublicComplaint).where(
        PublicComplaint.status == "open", PublicComplaint.due_on < today,
        PublicComplaint.escalation_level < 2)).all()
    escalated = []
    for complaint in rows:
        level = 2 if today > add_working_days(complaint.due_on, 5) else 1
        if level <= complaint.escalation_level:
            continue
        complaint.escalation_level, complaint.escalated_at = level, now
        above = codes.ancestors(complaint.region_code)
        target = above[min(level, len(above)) - 1] if above else complaint.region_code
        users = coordinators_covering(target, levels=[codes.level_of(target)])
        notify(users or coordinators_covering(complaint.region_code), "complaint.overdue",
               "投诉举报 %(ticket)s 逾期未答复（督办）", "应于 %(due)s 前答复。",
               f"/complaints/{complaint.id}", dedupe_key=f"public_complaint:{complaint.id}:overdue:{level}",
               params={"ticket": complaint.ticket, "due": complaint.due_on.isoformat()})
        audit.record(None, "public_complaint.escalate", "public_complaint", complaint.id,
                     after={"escalation_level": level}, region_code=complaint.region_code)
        escalated.append(complaint.ticket)
    db.session.commit()
    return {"escalated": escalated}
