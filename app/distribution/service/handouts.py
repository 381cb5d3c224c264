"""Hand-outs (签领): one household, some items, a signature or a photo, in one transaction."""
from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis import codes

from ... import audit, storage
from ...cycles import IdNumberError, households_brief, normalise_id_number
from ...errors import Conflict, NotFound
from ...database import commit_keeping_loaded
from ...extensions import db
from ...i18n import translate as _t
from ...models_common import utcnow
from ...validation import validate
from ...uploads import image_type
from ..models import DistributionPoint, HandOut, HandOutProof, SpotRecipient

from .common import (PERSON_FIELDS, HANDOUT_FIELDS, _who, _raise_if, _checked_lines, _item_names, get_point, PointBook,
    round_and_received)


def _decode_proof(kind: str, text: str, errors: list[dict]) -> tuple[str, bytes] | None:
    head, _, payload = text.partition(",")
    types = {"data:image/png;base64": "image/png", "data:image/jpeg;base64": "image/jpeg"}
    if head not in types or (kind == "signature" and types[head] != "image/png"):
        errors.append({"field": "proof", "message": _t("签名须为 PNG 图片，照片须为 PNG 或 JPEG 图片（data URL）")})
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        errors.append({"field": "proof", "message": _t("图片数据不是有效的 base64")})
        return None
    limit = int(current_app.config["DISTRIBUTION_PROOF_MAX_BYTES"])
    if len(data) > limit:
        errors.append({"field": "proof", "message": _t("图片超过 %(kb)s KB", kb=limit // 1024)})
        return None
    if image_type(data) != types[head] or len(data) < 64:
        errors.append({"field": "proof", "message": _t("图片内容与类型不符或为空白")})
        return None
    return types[head], data


def _recipient(user, point: DistributionPoint, values: dict, data, errors: list[dict]):
    """``(recipient_key, household_id, person values, region_code)``: a household of the registry
    is keyed ``H<household id>``; a person registered on the spot has no key yet (``None``): it is
    ``S<spot row id>`` once :func:`_spot_row` found or made the person's row."""
    household_id, person = values.get("household_id"), values.get("person")
    if (household_id is None) == (person is None):
        errors.append({"field": "household_id", "message": _t("须选择名册中的受灾户，或现场登记一人（二选一）")})
        return None
    if household_id is not None:
        found = households_brief(ids=[household_id])
        if not found:
            errors.append({"field": "household_id", "message": _t("受灾户 %(id)s 不存在", id=household_id)})
            return None
        household = found[0]
        if not codes.is_within(household["village_code"], point.region_code):
            errors.append({"field": "household_id", "message": _t("该户不在发放点所在区划")})
            return None
        return f"H{household['id']}", household["id"], None, household["village_code"]
    checked, found = validate(PERSON_FIELDS, person)
    errors.extend({**e, "field": f"person.{e['field']}"} for e in found)
    if checked.get("id_number"):
        try:
            checked["id_number"] = normalise_id_number(checked["id_number"])
        except IdNumberError as exc:
            errors.append({"field": "person.id_number", "message": _t(exc.message, **exc.params)})
            return None
    if found:
        return None
    registered = households_brief(id_number=checked["id_number"])
    if registered:  # in the registry already: the household receives as itself, never twice
        household = registered[0]
        if not codes.is_within(household["village_code"], point.region_code):
            errors.append({"field": "person.id_number", "message": _t("此人已在其他区划的受灾户名册中")})
            return None
        return f"H{household['id']}", household["id"], None, household["village_code"]
    return None, None, checked, point.region_code


def _spot_row(user, point: DistributionPoint, person: dict) -> SpotRecipient:
    """The person's one row (现场登记), by identity number: found, or made (registered at another
    point just now: that row)."""
    found = select(SpotRecipient).where(SpotRecipient.id_number == person["id_number"])
    row = db.session.scalar(found)
    if row is None:
        row = SpotRecipient(id_number=person["id_number"], name=person["name"],
                            household_size=person["household_size"], region_code=point.region_code,
                            registered_by=_who(user))
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:
            row = db.session.scalar(found)
    return row


def _refuse_twice(already: set[str], round_number: int, lines: list[dict]) -> None:
    """409 naming each line the household already received this round."""
    names = _item_names()
    twice = [{"field": f"lines[{l['index']}].item",
              "message": _t("%(item)s：该户本轮（第 %(n)s 轮）已领取", item=_t(names.get(l['item'], l['item'])),
                            n=round_number)}
             for l in lines if l["item"] in already]
    if twice:
        raise Conflict(_t("该户本次灾害已领取过这些物资；如确需再次发放，须先开启新一轮发放。"), twice, title=_t("重复领取"))


def _refuse_short(lines: list[dict], book: PointBook) -> None:
    """409 naming each line beyond the point's stock (read under the lock)."""
    names = _item_names()
    short = [{"field": f"lines[{l['index']}].quantity",
              "message": _t("%(item)s：发放 %(n)s，现有 %(left)s", item=_t(names.get(l['item'], l['item'])),
                            n=l['quantity'], left=book.on_hand(l['item']))}
             for l in lines if l["quantity"] > book.on_hand(l["item"])]
    if short:
        raise Conflict(_t("发放点库存不足，未发放任何物资。"), short, title=_t("库存不足"))


def hand_out(user, point_id: int, data, before_commit=None) -> list[HandOut]:
    """Hand items to one household (签领) with its signature or photo, in one transaction.

    Refused as a whole (nothing handed out): a line beyond the point's stock (409), or an item
    the household already received in this event's current round (409, naming the line)."""
    point = get_point(user, point_id, "distribution.handout")
    values, errors = validate(HANDOUT_FIELDS, data)
    lines = _checked_lines(data, errors)
    recipient = _recipient(user, point, values, data, errors) if not any(
        e["field"] in ("household_id", "person") for e in errors) else None
    proof = _decode_proof(values["proof_kind"], values["proof"], errors) if values.get("proof") and \
        values.get("proof_kind") else None
    now = utcnow()
    handed_at = values.get("handed_at") or now
    if handed_at > now + timedelta(minutes=5):
        errors.append({"field": "handed_at", "message": _t("发放时间不能晚于现在")})
    _raise_if(errors)
    key, household_id, person, _region = recipient
    spot = _spot_row(user, point, person) if person else None
    if spot is not None:  # keyed by the row, never by the identity number
        key = f"S{spot.id}"
    round_number, already = round_and_received(point, key)
    _refuse_twice(already, round_number, lines)
    # Everything that needs no lock is written first (proof, hand-out rows, audit line, stored
    # answer); the lock on the point's balances is taken last, so clerks at one point wait for
    # each other only while the balances and their ledger lines are written. Two hand-outs to one
    # household meet at the hand-out rows' unique index instead: the second waits there for the
    # first to commit and is refused.
    proof_row = _store_proof(values["proof_kind"], *proof)
    try:
        made = _handout_rows(user, point, lines, proof_row, key=key, round_number=round_number,
                             household_id=household_id, spot=spot, handed_at=handed_at, now=now)
        audit.record(user, "distribution.handout", "distribution_point", point.id,
                     after={"recipient": key, "round": round_number, "handouts": [r.id for r in made],
                            "lines": [{"item": r.item_code, "quantity": r.quantity} for r in made]},
                     region_code=point.region_code)
        if before_commit:
            before_commit(handout_body(made))
        db.session.flush()
        book = PointBook(point, user)
        _refuse_short(lines, book)
        for row in made:
            book.take_out(row.item_code, row.quantity, "handout", handout_id=row.id)
        commit_keeping_loaded()  # the API answers from the rows just written, without reading them back
    except Exception:
        storage.discard(proof_row.stored_key)  # bytes written outside the database (S3) go with the rows
        raise
    return made


def _handout_rows(user, point: DistributionPoint, lines: list[dict], proof_row: HandOutProof, *, key: str,
                  round_number: int, household_id, spot, handed_at, now) -> list[HandOut]:
    """One row per line, written (no lock): the rows' unique index refuses (409) a line the
    household was handed by another clerk just now."""
    made = []
    for line in lines:
        row = HandOut(point_id=point.id, event_id=point.event_id, round_number=round_number, recipient_key=key,
                      household_id=household_id, spot_recipient_id=spot.id if spot else None,
                      item_code=line["item"], quantity=line["quantity"], proof_id=proof_row.id,
                      proof_kind=proof_row.kind, handed_by=_who(user), handed_at=handed_at, recorded_at=now)
        db.session.add(row)
        made.append(row)
    try:
        # no savepoint (two round trips on every hand-out): the transaction is dead after this
        # error, and the caller rolls it back
        db.session.flush()
    except IntegrityError:
        raise Conflict(_t("该户本轮已领取这些物资（刚由他人登记）。"), [{"field": "lines", "message": _t("重复领取")}],
                       title=_t("重复领取")) from None
    return made


def _store_proof(kind: str, mimetype: str, blob: bytes) -> HandOutProof:
    """The proof's row, its bytes in the file store every instance sees under a key of its own
    (no lookup race between two clerks sending the same picture)."""
    row = HandOutProof(kind=kind, mimetype=mimetype, sha256=hashlib.sha256(blob).hexdigest(),
                       stored_key=f"distribution/proofs/{uuid.uuid4().hex}.{mimetype.split('/')[1]}")
    storage.put(row.stored_key, blob, mimetype, new_key=True)
    db.session.add(row)
    db.session.flush()
    return row


def handout_body(made: list[HandOut]) -> dict:
    first = made[0]
    return {"point_id": first.point_id, "event_id": first.event_id, "round": first.round_number,
            "household_id": first.household_id, "spot_recipient_id": first.spot_recipient_id,
            "handed_by": first.handed_by, "handed_at": first.handed_at.isoformat(),
            "proof_kind": first.proof_kind, "proof_id": first.proof_id,
            "items": [row.to_dict() for row in made]}


def proof_for(user, handout_id: int) -> storage.Blob:
    """A hand-out's proof: its bytes and content type, from the file store."""
    row = db.session.get(HandOut, handout_id)
    if row is None:
        raise NotFound(_t("发放记录 %(id)s 不存在。", id=handout_id))
    get_point(user, row.point_id)
    blob = storage.read(db.session.get(HandOutProof, row.proof_id).stored_key)
    if blob is None:
        raise NotFound(_t("发放记录 %(id)s 不存在。", id=handout_id))
    return blob
