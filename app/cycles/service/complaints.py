"""Complaints and reports (投诉举报) about a cycle's notice: recorded by those who may put
households forward (coordinators are told), resolved by the county. An open one blocks approval."""
from __future__ import annotations

from sqlalchemy import select

from ... import audit
from ...errors import Conflict, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...notifications import coordinators_covering, notify
from ...validation import Field, validate
from ..models import Complaint, Household
from .base import blank_only, get_cycle, refuse

COMPLAINT_FIELDS = {
    "content": Field("str", max_length=4000, multiline=True, description="投诉举报内容"),
    "complainant": Field("str", required=False, default="", max_length=100),
    "contact": Field("str", required=False, default="", max_length=100),
    "household_id": Field("int", required=False, min=1),
}
RESOLVE_FIELDS = {"resolution": Field("str", max_length=4000, multiline=True, description="办理结果")}


def complaints(user, cycle_id: int) -> list[Complaint]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(Complaint).where(Complaint.cycle_id == cycle.id)
                              .order_by(Complaint.id)).all()


def get_complaint(user, complaint_id: int) -> Complaint:
    """A complaint, once ``user`` may see its cycle."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"投诉举报 {complaint_id} 不存在。")
    get_cycle(user, complaint.cycle_id)
    return complaint


def add_complaint(user, cycle_id: int, data) -> Complaint:
    """Record a complaint (a JSON body or the cycle page's form); coordinators are told."""
    cycle = get_cycle(user, cycle_id, "household.edit")
    values, errors = validate(COMPLAINT_FIELDS, data)
    household_id = values["household_id"]
    rules = []
    if household_id is not None and db.session.get(Household, household_id) is None:
        rules.append({"field": "household_id", "message": "受灾户不存在"})
    refuse(errors, "投诉举报有误。", rules)
    if cycle.status in ("closed", "cancelled"):
        raise Conflict("救助周期已结束或已撤销。")
    content = values["content"]
    complaint = Complaint(cycle_id=cycle.id, household_id=household_id, content=content[:4000],
                          complainant=values["complainant"][:60], contact=values["contact"][:40],
                          recorded_by_id=getattr(user, "id", None))
    db.session.add(complaint)
    db.session.flush()
    audit.record(user, "complaint.create", "cycle_complaint", complaint.id, after={"cycle_id": cycle.id},
                 region_code=cycle.region_code)
    notify(coordinators_covering(cycle.region_code), "cycle.complaint", "%(cycle)s：收到投诉举报", "%(content)s",
           f"/cycles/{cycle.id}", dedupe_key=f"complaint:{complaint.id}",
           params={"cycle": cycle.name, "content": content[:200]})
    db.session.commit()
    return complaint


def resolve_complaint(user, complaint_id: int, data) -> Complaint:
    """Resolve a complaint with the result of its handling (``{"resolution"}``)."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"投诉举报 {complaint_id} 不存在。")
    cycle = get_cycle(user, complaint.cycle_id, "cycle.manage")
    values, errors = validate(RESOLVE_FIELDS, data)
    refuse(errors, "请填写办理结果。" if blank_only(errors) else "办理结果有误。")
    if complaint.status != "open":
        raise Conflict("该投诉举报已办结。")
    complaint.status, complaint.resolution = "resolved", values["resolution"][:4000]
    complaint.resolved_at, complaint.resolved_by_id = utcnow(), getattr(user, "id", None)
    audit.record(user, "complaint.resolve", "cycle_complaint", complaint.id, after={"status": "resolved"},
                 region_code=cycle.region_code)
    db.session.commit()
    return complaint


# --- Complaints from the public (app.complaints), through the cycles' public surface ----------

def household_choices(user, region_code: str) -> list[tuple[int, str]]:
    """``(id, "户主 · 村")`` of the households ``user`` may see in ``region_code``, for the
    picker of a complaint's handler (who links the household the complainant named)."""
    from .households import household_query

    rows = db.session.scalars(household_query(user, region_code=region_code).order_by(Household.id)
                              .limit(2000)).all()
    return [(h.id, f"{h.head_name} · {h.village_code}") for h in rows]


def hold_household(user, household_id: int, content: str, source: str) -> list[int]:
    """Open a cycle complaint about ``household_id`` in every cycle not yet closed where it is
    put forward: as a complaint recorded on the cycle page, it holds the household's next payment
    (:func:`app.cycles.service.disbursement.due_unpaid`) and the cycle's approvals until it is
    resolved. Nothing of the complainant is copied (``source`` is the ticket). Returns the ids.
    The caller has checked permission and commits."""
    from ..models import Beneficiary, Cycle

    household = get_household_for_hold(user, household_id)
    cycles = db.session.scalars(select(Cycle).join(Beneficiary, Beneficiary.cycle_id == Cycle.id).where(
        Beneficiary.household_id == household.id, Cycle.status.notin_(("closed", "cancelled")))).all()
    ids = []
    for cycle in cycles:
        complaint = Complaint(cycle_id=cycle.id, household_id=household.id,
                              content=f"公众投诉举报 {source}：{content}"[:4000], complainant="", contact="",
                              recorded_by_id=getattr(user, "id", None))
        db.session.add(complaint)
        db.session.flush()
        audit.record(user, "complaint.create", "cycle_complaint", complaint.id,
                     after={"cycle_id": cycle.id, "source": source}, region_code=cycle.region_code)
        ids.append(complaint.id)
    return ids


def get_household_for_hold(user, household_id: int) -> Household:
    from .households import get_household

    return get_household(user, household_id)


def release_holds(user, complaint_ids: list[int], resolution: str) -> None:
    """Resolve the cycle complaints :func:`hold_household` opened (the caller commits)."""
    for complaint_id in complaint_ids or []:
        complaint = db.session.get(Complaint, complaint_id)
        if complaint is None or complaint.status != "open":
            continue
        complaint.status, complaint.resolution = "resolved", resolution[:4000]
        complaint.resolved_at, complaint.resolved_by_id = utcnow(), getattr(user, "id", None)
        audit.record(user, "complaint.resolve", "cycle_complaint", complaint.id, after={"status": "resolved"})


def held_households(cycle_id: int) -> set[int]:
    """Households of a cycle with a complaint still open: their payments wait until it is handled."""
    return set(db.session.scalars(select(Complaint.household_id).where(
        Complaint.cycle_id == cycle_id, Complaint.status == "open", Complaint.household_id.is_not(None))).all())
