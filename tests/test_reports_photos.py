"""Report photos (现场照片): type and size checks, storage, dedupe, idempotency, permissions."""
from __future__ import annotations

import io
import os
import struct
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.reports.models import ReportPhoto
from app.storage import StoredFile

SH = ZoneInfo("Asia/Shanghai")


def png(seed: int = 0) -> bytes:
    """A real 1×1 PNG whose pixel depends on ``seed``."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00" + bytes([seed % 256, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.fixture
def report(app, client, auth):
    with time_machine.travel(datetime(2026, 7, 6, 12, 0, tzinfo=SH), tick=False):
        headers = auth.token("officer", "140105")
        eid = client.post("/api/v1/events", headers=headers, json={
            "name": "x", "hazard": "flood", "started_at": "2026-07-06T06:00:00", "region_codes": ["140105"],
            "major": True}).get_json()["id"]
        rid = client.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
            "region_code": "140105", "kind": "initial", "as_of": "2026-07-06T08:00:00",
            "figures": {"affected_population": 5}}).get_json()["id"]
        yield {"eid": eid, "rid": rid, "headers": headers,
               "url": f"/api/v1/events/{eid}/reports/{rid}/photos"}


def upload(client, report, content, name="a.png", mimetype="image/png", headers=None):
    return client.post(report["url"], headers=headers or report["headers"],
                       data={"file": (io.BytesIO(content), name, mimetype)}, content_type="multipart/form-data")


def photo_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ReportPhoto))


def test_upload_store_and_fetch(app, client, report):
    response = upload(client, report, png(1), name="现场 1.png")
    assert response.status_code == 201
    body = response.get_json()
    assert body["content_type"] == "image/png" and body["size"] == len(png(1))
    assert body["original_name"] == "现场 1.png" and body["report_id"] == report["rid"]
    # in the file store every instance sees (the database here), nothing on this host's disk
    key = f"reports/{report['eid']}/{report['rid']}/{body['sha256'][:32]}.png"
    with app.app_context():
        stored = db.session.scalars(select(StoredFile)).all()
        assert [(f.key, f.backend, f.size, f.sha256, f.content) for f in stored] == [
            (key, "database", len(png(1)), body["sha256"], png(1))]
    assert not os.path.exists(app.config["REPORT_PHOTO_DIR"])
    fetched = client.get(body["url"], headers=report["headers"])
    assert fetched.status_code == 200 and fetched.data == png(1) and fetched.mimetype == "image/png"
    assert fetched.headers["ETag"] == f'"{body["sha256"]}"'
    assert "private" in fetched.headers["Cache-Control"] and "public" not in fetched.headers["Cache-Control"]
    again = client.get(body["url"], headers={**report["headers"], "If-None-Match": fetched.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    for content, name, kind in ((JPEG, "b.jpg", "image/jpeg"), (WEBP, "c.webp", "image/webp")):
        assert upload(client, report, content, name, kind).get_json()["content_type"] == kind
    detail = client.get(f"/api/v1/events/{report['eid']}/reports/{report['rid']}", headers=report["headers"])
    got = detail.get_json()
    assert got["photo_count"] == 3 and got["photos_required"] == 3 and len(got["photos"]) == 3


def test_same_picture_twice_is_one_photo(app, client, report):
    first = upload(client, report, png(2))
    again = upload(client, report, png(2), name="renamed.png")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert photo_count(app) == 1


@pytest.mark.parametrize("content, mimetype, message", [
    (b"hello, not an image", "image/png", "只接受"),
    (b"GIF89a" + b"\x00" * 20, "image/gif", "只接受"),
    (JPEG, "image/png", "不符"),
    (b"", "image/png", "为空"),
])
def test_type_checks(app, client, report, content, mimetype, message):
    response = upload(client, report, content, mimetype=mimetype)
    assert response.status_code == 422
    error = response.get_json()["errors"][0]
    assert error["field"] == "file" and message in error["message"]
    assert photo_count(app) == 0


def test_size_limit_and_types_are_configurable(app, client, report):
    app.config["REPORT_PHOTO_MAX_BYTES"] = 40
    response = upload(client, report, png(3))
    assert response.status_code == 422 and "不能超过" in response.get_json()["errors"][0]["message"]
    app.config["REPORT_PHOTO_MAX_BYTES"] = 8 * 1024 * 1024
    app.config["REPORT_PHOTO_TYPES"] = ["image/jpeg"]
    assert upload(client, report, png(3)).status_code == 422
    assert upload(client, report, JPEG, "a.jpg", "image/jpeg").status_code == 201
    assert photo_count(app) == 1
    with app.app_context():
        assert [f.content_type for f in db.session.scalars(select(StoredFile))] == ["image/jpeg"]


def test_missing_file_and_too_many(app, client, report):
    missing = client.post(report["url"], headers=report["headers"], data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "file"
    app.config["REPORT_PHOTO_MAX_PER_REPORT"] = 2
    assert upload(client, report, png(4)).status_code == 201
    assert upload(client, report, png(5)).status_code == 201
    assert upload(client, report, png(6)).status_code == 409


@pytest.mark.parametrize("role, region, status", [
    ("officer", "140106", 403), ("auditor", "140000", 403), ("depot_manager", "140000", 403),
    ("coordinator", "140000", 201),
])
def test_upload_permissions(app, client, auth, report, role, region, status):
    assert upload(client, report, png(7), headers=auth.token(role, region)).status_code == status


def test_unknown_report_and_no_token(client, report):
    url = f"/api/v1/events/{report['eid']}/reports/999/photos"
    response = client.post(url, headers=report["headers"], data={"file": (io.BytesIO(png()), "a.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 404
    assert client.post(report["url"], data={}).status_code == 401
    assert client.get(f"{report['url']}/1", headers=report["headers"]).status_code == 404


def test_idempotency_key_with_fixed_boundary(app, client, report):
    """The field form builds the same multipart bytes for every retry of one photo."""
    boundary = "----jiuzaiTESTp0"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png(8) + f"\r\n--{boundary}--\r\n".encode()
    headers = {**report["headers"], "Idempotency-Key": "photo-key-1",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    first = client.post(report["url"], data=body, headers=headers)
    again = client.post(report["url"], data=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["id"] == again.get_json()["id"]
    assert photo_count(app) == 1


def test_default_folder_is_instance_photos(app):
    from app.reports.service import photo_dir

    app.config["REPORT_PHOTO_DIR"] = None
    with app.app_context():
        assert photo_dir() == os.path.join(app.instance_path, "photos")


def test_photo_page_upload(app, client, auth, report):
    auth.login("officer", "140105")
    page = f"/events/{report['eid']}/reports/{report['rid']}"
    assert "现场照片" in client.get(page).get_data(as_text=True)
    response = client.post(page + "/photos", data={"file": (io.BytesIO(png(9)), "p.png", "image/png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and photo_count(app) == 1
    shown = client.get(page).get_data(as_text=True)
    assert f"/api/v1/events/{report['eid']}/reports/{report['rid']}/photos/" in shown
    assert "至少 3" in shown


# --- the file store every instance sees -----------------------------------------------------------

def test_a_failed_transaction_leaves_no_stored_file(app, client, report, monkeypatch):
    from app import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(audit, "record", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert upload(client, report, png(20)).status_code == 500
    monkeypatch.undo()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert upload(client, report, png(20)).status_code == 201


def test_a_second_instance_reads_the_photo_from_the_database(app, client, report, tmp_path):
    from app import create_app

    body = upload(client, report, png(21)).get_json()
    other = create_app({**app.config, "REPORT_PHOTO_DIR": str(tmp_path / "elsewhere")})
    fetched = other.test_client().get(body["url"], headers=report["headers"])
    assert fetched.status_code == 200 and fetched.data == png(21)


def test_same_key_other_bytes_is_refused(app):
    from app import storage
    from app.errors import Conflict

    with app.app_context():
        first, made = storage.put("x/a.png", png(22), "image/png")
        db.session.commit()
        again, made_again = storage.put("x/a.png", png(22), "image/png")
        assert (made, made_again, again.id) == (True, False, first.id)
        with pytest.raises(Conflict):
            storage.put("x/a.png", png(23), "image/png")
        assert storage.read("x/a.png").content == png(22) and storage.read("x/b.png") is None
        db.session.execute(StoredFile.__table__.update().values(content=png(24)))
        db.session.expire_all()
        with pytest.raises(storage.StorageError):  # the bytes no longer match their hash
            storage.read("x/a.png")


def _disk_photo(app, report, seed, relative_to=None):
    """A photo as the versions before the file store kept it: a row, and a file on disk."""
    import hashlib

    content = png(seed)
    digest = hashlib.sha256(content).hexdigest()
    relative = f"{report['eid']}/{report['rid']}/{digest[:32]}.png"
    path = os.path.join(app.config["REPORT_PHOTO_DIR"], relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    with app.app_context():
        row = ReportPhoto(report_id=report["rid"], event_id=report["eid"], path=relative, original_name="old.png",
                          content_type="image/png", size=len(content), sha256=digest, uploaded_by="officer")
        db.session.add(row)
        db.session.commit()
        return row.id, path, content


def test_import_photos_from_disk_is_idempotent(app, client, report, runner):
    first_id, first_path, first = _disk_photo(app, report, 30)
    second_id, second_path, second = _disk_photo(app, report, 31)
    url = f"{report['url']}/{first_id}"
    assert client.get(url, headers=report["headers"]).status_code == 404  # not in the store yet
    result = runner.invoke(args=["reports", "import-photos"])
    assert result.exit_code == 0, result.output
    assert "迁入 2，已在文件存储 0，缺少文件 0" in result.output
    fetched = client.get(url, headers=report["headers"])
    assert fetched.status_code == 200 and fetched.data == first
    again = runner.invoke(args=["reports", "import-photos", "--remove"])
    assert again.exit_code == 0 and "迁入 0，已在文件存储 2" in again.output and "已删除磁盘文件 2" in again.output
    assert not os.path.exists(first_path) and not os.path.exists(second_path)
    assert client.get(f"{report['url']}/{second_id}", headers=report["headers"]).data == second
    third = runner.invoke(args=["reports", "import-photos"])
    assert third.exit_code == 0 and "迁入 0，已在文件存储 2" in third.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 2


def test_import_photos_refuses_a_file_that_is_not_its_row(app, report, runner):
    photo_id, path, _content = _disk_photo(app, report, 32)
    with open(path, "wb") as handle:
        handle.write(png(33))  # changed on disk since it was uploaded
    _disk_photo(app, report, 34)
    os.remove(_disk_photo(app, report, 35)[1])
    result = runner.invoke(args=["reports", "import-photos"])
    assert result.exit_code == 1
    assert "迁入 1，已在文件存储 0，缺少文件 1，内容与记录不符 1" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1
