"""House-check photos (逐户核查) and hand-out proofs (签领) in the file store every instance sees:
migration 0019 moves the bytes their rows kept into ``stored_file``, another instance reads them
back, and the downgrade puts them back into their columns."""
from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.test_cycles_support import VILLAGE, id_number
from tests.test_reports_photos import png

TOWNSHIP = VILLAGE[:9]


def _old_rows(conn) -> dict:
    """A house check with two photos and a hand-out proof, as revision 0018 kept them."""
    from sqlalchemy import inspect

    from tests.test_cycles_order import _fill

    meta = sa.MetaData()
    meta.reflect(conn)

    def add(table, **values):
        return conn.execute(meta.tables[table].insert().values(
            **_fill(inspect(conn), table, values))).inserted_primary_key[0]

    for code, level, parent in (("140000", "province", None), ("140100", "prefecture", "140000"),
                                ("140105", "county", "140100"), (TOWNSHIP, "township", "140105"),
                                (VILLAGE, "village", TOWNSHIP)):
        add("region", code=code, level=level, parent_code=parent, name=code)
    cycle = add("relief_cycle", kind="reconstruction", region_code="140105", status="survey", name="重建")
    household = add("household", village_code=VILLAGE, id_number=id_number(), members=3)
    check = add("house_check", cycle_id=cycle, household_id=household, checkers="王五")
    photos = {add("house_check_photo", check_id=check, content_type="image/png", size=len(png(seed)),
                  content=png(seed)): png(seed) for seed in (1, 2)}
    signature = png(3)
    proof = add("handout_proof", kind="signature", mimetype="image/png", sha256=hashlib.sha256(signature).hexdigest(),
                data=signature)
    return {"photos": photos, "proof": (proof, signature), "check": check}


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_migration_moves_check_photos_and_proofs_into_the_store_another_instance_reads(
        tmp_path, request, database):
    from flask_migrate import downgrade, upgrade

    from app import storage
    from app.cycles.models import HouseCheckPhoto
    from app.distribution.models import HandOutProof

    url = f"sqlite:///{tmp_path / 'old.sqlite'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    host_a = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path / "a"))
    host_b = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path / "b"))
    with host_a.app_context():
        upgrade(revision="0018_handout_spot_key")
        with db.engine.begin() as conn:
            old = _old_rows(conn)
        upgrade()
        db.engine.dispose()

    with host_b.app_context():  # another instance reads every file the migration moved
        for photo_id, content in old["photos"].items():
            row = db.session.get(HouseCheckPhoto, photo_id)
            assert row.stored_key.startswith(f"cycles/checks/{old['check']}/")
            blob = storage.read(row.stored_key)
            assert (blob.content, blob.content_type, blob.sha256) == (content, "image/png",
                                                                      hashlib.sha256(content).hexdigest())
        proof_id, signature = old["proof"]
        proof = db.session.get(HandOutProof, proof_id)
        assert storage.read(proof.stored_key).content == signature
        assert db.session.scalar(sa.select(sa.func.count()).select_from(storage.StoredFile)) == 3
        db.session.remove()
        db.engine.dispose()

    with host_a.app_context():  # and back: the bytes return to their columns
        downgrade(revision="0018_handout_spot_key")
        with db.engine.connect() as conn:
            assert dict(conn.execute(sa.text("SELECT id, content FROM house_check_photo")).all()) == old["photos"]
            assert conn.execute(sa.text("SELECT id, data FROM handout_proof")).one() == tuple(old["proof"])
            assert conn.execute(sa.text("SELECT count(*) FROM stored_file")).scalar() == 0
        upgrade()  # and forth again
        db.engine.dispose()
