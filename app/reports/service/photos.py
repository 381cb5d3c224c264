"""Photos attached to a loss report (现场照片): JPEG, PNG or WebP recognised by their first bytes,
at most ``REPORT_PHOTO_MAX_BYTES`` each and ``REPORT_PHOTO_MAX_PER_REPORT`` per report, stored
once per content hash and report in the file store every instance sees (:mod:`app.storage`; the
same picture sent again returns the first row), and served back to those who may see the report.

Photos uploaded before the file store were files under ``REPORT_PHOTO_DIR``:
:func:`import_disk_photos` (``flask reports import-photos``) moves them in.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import audit, storage
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...permissions import require
from ...uploads import image_type
from ..models import Event, LossReport, ReportPhoto
from ._common import config
from .events import get_event
from .history import get_report

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of a JPEG, PNG or WebP by its first bytes."""
    kind = image_type(head)
    return (kind, _EXTENSIONS[kind]) if kind else None


def photo_dir() -> str:
    """Where photos were kept on disk before the file store (read by the import only)."""
    return current_app.config.get("REPORT_PHOTO_DIR") or os.path.join(current_app.instance_path, "photos")


def add_photo(user, event_id: int, report_id: int, upload) -> tuple[ReportPhoto, bool]:
    """Attach a photo (JPEG, PNG or WebP up to ``REPORT_PHOTO_MAX_BYTES``) to a report.

    ``upload`` is a werkzeug ``FileStorage`` (or ``None``). The same picture sent again for the
    same report returns the first row and ``False``.
    """
    event, report = _open_report(user, event_id, report_id)
    content, sniffed = _read_upload(upload)
    digest = hashlib.sha256(content).hexdigest()
    existing = _same_photo(report.id, digest)
    if existing is not None:
        return existing, False
    count = db.session.scalar(select(func.count()).select_from(ReportPhoto).filter_by(report_id=report.id))
    if count >= int(config("REPORT_PHOTO_MAX_PER_REPORT")):
        raise Conflict(f"每份报告最多 {config('REPORT_PHOTO_MAX_PER_REPORT')} 张照片。")
    relative = f"{event.id}/{report.id}/{digest[:32]}{sniffed[1]}"
    _stored, wrote = storage.put(store_key(relative), content, sniffed[0])
    photo = ReportPhoto(report_id=report.id, event_id=event.id, path=relative,
                        original_name=os.path.basename(upload.filename or "")[:200],
                        content_type=sniffed[0], size=len(content), sha256=digest,
                        uploaded_by_id=user.id, uploaded_by=user.username)
    return _save(user, report, photo, wrote)


def store_key(relative: str) -> str:
    """The file store's key of a photo whose ``ReportPhoto.path`` is ``relative``."""
    return "reports/" + relative.replace(os.sep, "/")


def _open_report(user, event_id: int, report_id: int) -> tuple[Event, LossReport]:
    """The event and the report, when the user may report on its region and the event is open."""
    event = get_event(user, event_id)
    report = db.session.get(LossReport, report_id)
    if report is None or report.event_id != event.id:
        raise NotFound(f"报告 {report_id} 不存在。")
    require(user, "report.submit", report.region_code)
    if event.status == "closed":
        raise Conflict("灾害过程已结束，不再接受照片。")
    return event, report


def _read_upload(upload) -> tuple[bytes, tuple[str, str]]:
    """The upload's bytes and ``(content type, extension)``; a 422 naming ``file`` when missing,
    empty, too large, of a type not accepted or not what it claims to be."""
    if upload is None or not getattr(upload, "filename", None):
        raise Invalid("缺少照片文件。", [{"field": "file", "message": "必填：请选择照片"}])
    limit = int(config("REPORT_PHOTO_MAX_BYTES"))
    content = upload.stream.read(limit + 1)
    errors = []
    if not content:
        errors.append({"field": "file", "message": "文件为空"})
    elif len(content) > limit:
        errors.append({"field": "file", "message": f"照片不能超过 {limit // (1024 * 1024)} MB"})
    sniffed = sniff_image(content[:16]) if content else None
    allowed = set(config("REPORT_PHOTO_TYPES"))
    if content and (sniffed is None or sniffed[0] not in allowed):
        errors.append({"field": "file", "message": "只接受以下格式的图片：" + "、".join(sorted(allowed))})
    elif sniffed and upload.mimetype and upload.mimetype != "application/octet-stream" \
            and upload.mimetype != sniffed[0]:
        errors.append({"field": "file", "message": f"声明的类型 {upload.mimetype} 与文件内容（{sniffed[0]}）不符"})
    if errors:
        raise Invalid("照片不符合要求。", errors)
    return content, sniffed


def _same_photo(report_id: int, digest: str) -> ReportPhoto | None:
    return db.session.scalar(select(ReportPhoto).filter_by(report_id=report_id, sha256=digest))


def _save(user, report: LossReport, photo: ReportPhoto, wrote: bool) -> tuple[ReportPhoto, bool]:
    """The stored file, the row and its audit line in one transaction. A concurrent upload of
    the same picture wins: its row is returned (and its stored file kept). On any other failure
    bytes written outside the database now (S3) are removed."""
    digest = photo.sha256
    db.session.add(photo)
    try:
        db.session.flush()
        audit.record(user, "report.photo", "report_photo", photo.id,
                     after={"report_id": report.id, "size": photo.size, "sha256": digest},
                     region_code=report.region_code)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _same_photo(report.id, digest)
        if existing is None:
            raise
        return existing, False
    except Exception:
        db.session.rollback()
        if wrote:
            storage.discard(store_key(photo.path))
        raise
    return photo, True


def photo_file(user, event_id: int, report_id: int, photo_id: int) -> tuple[bytes, ReportPhoto]:
    """The photo's bytes (from the file store) and its row, for those who may see the report."""
    report = get_report(user, event_id, report_id)
    photo = db.session.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(f"照片 {photo_id} 不存在。")
    blob = storage.read(store_key(photo.path))
    if blob is None:
        # uploaded before the file store and not imported yet: `flask reports import-photos`
        raise NotFound(f"照片 {photo_id} 的文件尚未迁入文件存储。")
    return blob.content, photo


@dataclass
class ImportTally:
    """What :func:`import_disk_photos` did: counts, and the photos it could not import."""

    imported: int = 0
    already: int = 0
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    removed: int = 0


def import_disk_photos(folder: str | None = None, *, remove: bool = False) -> ImportTally:
    """Move photos kept as files under ``folder`` (default :func:`photo_dir`) into the file
    store: one commit per photo, each checked against the SHA-256 of its row. Idempotent: a
    photo already in the store is counted, not stored again; run it as often as needed (a second
    instance can keep serving meanwhile). ``remove`` deletes each file once it is in the store."""
    folder = folder or photo_dir()
    tally = ImportTally()
    rows = db.session.execute(select(ReportPhoto.id, ReportPhoto.path, ReportPhoto.sha256,
                                     ReportPhoto.content_type).order_by(ReportPhoto.id)).all()
    for _id, relative, digest, content_type in rows:
        path = os.path.join(folder, relative)
        if storage.find(store_key(relative)) is not None:
            tally.already += 1
        elif not os.path.isfile(path):
            tally.missing.append(relative)
            continue
        else:
            with open(path, "rb") as handle:
                content = handle.read()
            if hashlib.sha256(content).hexdigest() != digest:
                tally.mismatched.append(relative)
                continue
            try:
                storage.put(store_key(relative), content, content_type)
                db.session.commit()
            except IntegrityError:  # another import stored it meanwhile
                db.session.rollback()
                tally.already += 1
            else:
                tally.imported += 1
        if remove and os.path.isfile(path):
            os.remove(path)
            tally.removed += 1
    return tally
