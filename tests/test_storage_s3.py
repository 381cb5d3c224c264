"""The S3-compatible file store (FILE_STORAGE = "s3"), against moto's in-process fake of S3:
photos go to the bucket (the row keeps type, size and hash), every instance reads them, files
stored in the database before the switch stay readable, a failed upload leaves no object, and a
bucket that is down is a 503 that names the store, never a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.storage import StoredFile
from tests.test_reports_photos import png, report, upload  # noqa: F401  (report: a fixture)

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

BUCKET = "jiuzai-photos"


@pytest.fixture
def bucket(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def s3_app(app, **extra):
    return create_app({**app.config, "FILE_STORAGE": "s3", "FILE_STORAGE_S3_BUCKET": BUCKET,
                       "FILE_STORAGE_S3_REGION": "us-east-1", "FILE_STORAGE_S3_PREFIX": "jiuzai/", **extra})


def objects(bucket):
    return sorted(o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_photos_go_to_the_bucket_and_every_instance_reads_them(app, report, bucket):
    first = s3_app(app)
    body = upload(first.test_client(), report, png(60)).get_json()
    key = f"reports/{report['eid']}/{report['rid']}/{body['sha256'][:32]}.png"
    assert objects(bucket) == [f"jiuzai/{key}"]
    assert bucket.get_object(Bucket=BUCKET, Key=f"jiuzai/{key}")["Body"].read() == png(60)
    with first.app_context():
        row = db.session.scalar(select(StoredFile))
        assert (row.key, row.backend, row.content, row.size) == (key, "s3", None, len(png(60)))
    second = s3_app(app)
    fetched = second.test_client().get(body["url"], headers=report["headers"])
    assert fetched.status_code == 200 and fetched.data == png(60)


def test_files_stored_in_the_database_stay_readable_after_the_switch(app, client, report, bucket):
    before = upload(client, report, png(61)).get_json()  # FILE_STORAGE = "database"
    switched = s3_app(app)
    after = upload(switched.test_client(), report, png(62)).get_json()
    for body, content in ((before, png(61)), (after, png(62))):
        assert switched.test_client().get(body["url"], headers=report["headers"]).data == content
    with switched.app_context():
        assert sorted(db.session.scalars(select(StoredFile.backend))) == ["database", "s3"]
    assert len(objects(bucket)) == 1


def test_a_failed_upload_leaves_no_object(app, report, bucket, monkeypatch):
    from app import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    failing = s3_app(app, PROPAGATE_EXCEPTIONS=False)
    monkeypatch.setattr(audit, "record", broken)
    assert upload(failing.test_client(), report, png(63)).status_code == 500
    assert objects(bucket) == []
    with failing.app_context():
        assert db.session.scalar(select(StoredFile)) is None


def test_a_bucket_that_is_down_is_a_503(app, report, bucket):
    body = upload(s3_app(app).test_client(), report, png(64)).get_json()
    for key in objects(bucket):
        bucket.delete_object(Bucket=BUCKET, Key=key)
    gone = s3_app(app).test_client().get(body["url"], headers=report["headers"])
    assert gone.status_code == 503 and gone.get_json()["title"] == "文件存储暂不可用"
    missing = s3_app(app, FILE_STORAGE_S3_BUCKET="no-such-bucket")
    refused = upload(missing.test_client(), report, png(65))
    assert refused.status_code == 503
    with missing.app_context():
        assert db.session.scalar(select(StoredFile).where(StoredFile.sha256 != body["sha256"])) is None


def test_s3_needs_a_bucket_and_a_known_backend(app):
    with pytest.raises(RuntimeError, match="FILE_STORAGE must be one of"):
        create_app({**app.config, "FILE_STORAGE": "ftp"})
    with s3_app(app, FILE_STORAGE_S3_BUCKET=None).app_context():
        from app import storage

        with pytest.raises(RuntimeError, match="FILE_STORAGE_S3_BUCKET"):
            storage.backend()


def test_complaint_photos_go_to_the_bucket_too(app, bucket):
    from io import BytesIO

    from app.complaints.models import PublicComplaint
    from tests.factories import make_user
    from tests.conftest import PASSWORD

    s3 = s3_app(app)
    client = s3.test_client()
    assert client.post("/public/complaints/new", data={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": "帐篷被拉走了。",
        "photos": [(BytesIO(png(66)), "a.png")]}, content_type="multipart/form-data").status_code == 302
    with s3.app_context():
        complaint_id = db.session.scalar(select(PublicComplaint.id))
        name = make_user("coordinator", "140105").username
    assert [key.split("/")[:2] for key in objects(bucket)] == [["jiuzai", "complaints"]]
    client.post("/login", data={"username": name, "password": PASSWORD})
    assert client.get(f"/complaints/{complaint_id}/photos/1").data == png(66)


def test_a_hand_out_proof_goes_to_the_bucket_and_another_instance_serves_it(app, auth, bucket):
    """Hand-out proofs (签领) follow FILE_STORAGE as photos do; a refused hand-out leaves no object."""
    import base64

    from tests.distribution_support import VILLAGE, stocked_point
    from tests.distribution_support import png as signature_png

    setup = stocked_point(app)
    clerk = auth.token("officer", VILLAGE, username="village-clerk")
    first, signature = s3_app(app), signature_png(seed=9)
    body = {"household_id": setup["households"][0], "lines": [{"item": "quilt", "quantity": 2}],
            "proof_kind": "signature", "proof": signature}
    made = first.test_client().post(f"/api/v1/distribution/points/{setup['point_id']}/handouts", json=body,
                                    headers=clerk)
    assert made.status_code == 201, made.get_json()
    [key] = objects(bucket)
    assert key.startswith("jiuzai/distribution/proofs/")
    again = first.test_client().post(f"/api/v1/distribution/points/{setup['point_id']}/handouts", json=body,
                                     headers=clerk)
    assert again.status_code == 409 and objects(bucket) == [key]  # the same item twice: refused, nothing kept
    served = s3_app(app).test_client().get(
        f"/api/v1/distribution/handouts/{made.get_json()['items'][0]['id']}/proof", headers=clerk)
    assert served.status_code == 200 and served.data == base64.b64decode(signature.partition(",")[2])
