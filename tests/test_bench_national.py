"""Smoke tests of ``bench/national.py`` at a tiny size: the builder and both loaders, checked by
row counts and by reading the loaded data back through the API."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from tests.bench_scripts import load
from tests.conftest import PASSWORD

PROVINCES = ("14", "65")  # 山西, 新疆

national = load("national")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Two provinces of a tiny national dataset (every county keeps one township or more)."""
    cache = tmp_path_factory.mktemp("national-cache")
    dataset, built = national.build_dataset(0, n_townships=3_000, n_villages=6_000, n_depots=400,
                                            provinces=PROVINCES, cache_dir=cache)
    return dataset, built, cache


def test_build_dataset_is_cut_to_the_provinces_and_cached(tiny):
    dataset, built, cache = tiny
    assert built["cache_hit"] is False and Path(built["cache_path"]).parent == cache
    counts = national.dataset_counts(dataset)
    assert dataset.provinces["code"].tolist() == ["140000", "650000"]
    assert counts["provinces"] == 2 and 100 < counts["counties"] < 300
    assert 200 < counts["villages"] < 1_500
    for frame in (dataset.prefectures, dataset.counties, dataset.townships, dataset.villages):
        assert set(frame["code"].str[:2]) <= set(PROVINCES)
    assert set(dataset.depots["region_code"].str[:2]) == set(PROVINCES)
    assert counts["stocked_items"] == 8 and national.EXTRA_ITEM in set(dataset.stock["item"])
    # A second build with the same arguments comes from the cache and is identical.
    again, built_again = national.build_dataset(0, n_townships=3_000, n_villages=6_000, n_depots=400,
                                                provinces=PROVINCES, cache_dir=cache)
    assert built_again["cache_hit"] is True
    assert again.villages.equals(dataset.villages) and again.stock.equals(dataset.stock)


def test_table_rows_put_parents_first_and_encode_geometries(tiny):
    dataset, _, _ = tiny
    region = {t.name: t for t in national.table_rows(dataset, "sqlite")}["region"]
    codes = region.values[region.columns.index("code")]
    parents = region.values[region.columns.index("parent_code")]
    seen: set[str] = set()
    for code, parent in zip(codes, parents):
        assert parent is None or parent in seen, f"{code} comes before its parent {parent}"
        seen.add(code)
    boundary = region.values[region.columns.index("boundary")]
    levels = region.values[region.columns.index("level")]
    assert all(isinstance(b, bytes) for b, lvl in zip(boundary, levels) if lvl in ("province", "county"))
    assert all(b is None for b, lvl in zip(boundary, levels) if lvl == "village")
    pg_region = {t.name: t for t in national.table_rows(dataset, "postgresql")}["region"]
    first = pg_region.values[pg_region.columns.index("boundary")][0]
    assert first.startswith("0106000020E6100000")  # hex EWKB: MultiPolygon with SRID 4326


def _check_through_api(url: str, dataset) -> None:
    from app.auth.service import cli_create_user

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    try:
        with app.app_context():
            cli_create_user("national-admin", "admin", "000000", PASSWORD)
            db.session.commit()
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"username": "national-admin", "password": PASSWORD})
        assert token.status_code == 200, token.get_json()
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

        children = client.get("/api/v1/regions/140000/children", headers=headers)
        assert children.status_code == 200
        body = children.get_json()
        expected = sorted(c for c, p in zip(dataset.prefectures["code"], dataset.prefectures["parent_code"])
                          if p == "140000")
        assert [r["code"] for r in body["items"]] == expected and body["total"] == len(expected)

        village = dataset.villages.iloc[len(dataset.villages) // 2]
        got = client.get(f"/api/v1/regions/{village['code']}", headers=headers).get_json()
        assert got["level"] == "village" and got["parent_code"] == village["parent_code"]
        assert got["population"] == int(village["population"])
        assert got["lon"] == pytest.approx(float(village["lon"]))

        stock = dataset.stock[dataset.stock["on_hand"] > 0]
        depot = stock["depot_code"].iloc[0]
        rows = client.get(f"/api/v1/depots/{depot}/stock", headers=headers)
        assert rows.status_code == 200, rows.get_json()
        on_hand = {r["item"]: r["on_hand"] for r in rows.get_json()}
        assert on_hand == {i: int(q) for i, q in zip(stock[stock["depot_code"] == depot]["item"],
                                                      stock[stock["depot_code"] == depot]["on_hand"])}
        assert client.get("/api/v1/regions/110000", headers=headers).status_code == 404  # not loaded
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _expected_rows(dataset) -> dict:
    counts = national.dataset_counts(dataset)
    return {"region": counts["regions"], "item": counts["items"], "depot": counts["depots"],
            "stock_balance": counts["stock_balances"], "stock_movement": counts["stock_movements"]}


def test_load_sqlite_counts_and_api(tiny, tmp_path):
    dataset, _, _ = tiny
    path = tmp_path / "national.sqlite"
    figures = national.load_sqlite(path, dataset)
    assert figures["rows"] == _expected_rows(dataset)
    assert figures["load_seconds"] > 0 and path.exists()
    _check_through_api(national.sqlite_url(path), dataset)
    # Loading again replaces the file instead of failing on duplicate keys.
    assert national.load_sqlite(path, dataset)["rows"] == _expected_rows(dataset)


@pytest.mark.postgres
def test_load_postgres_counts_and_api(tiny, pg_url):
    dataset, _, _ = tiny
    from sqlalchemy.engine import make_url

    server = make_url(pg_url).set(database="postgres").render_as_string(hide_password=False)
    name = f"{make_url(pg_url).database}_national_{uuid.uuid4().hex[:6]}"
    url = national.create_database(server, name)
    try:
        figures = national.load_postgres(url, dataset)
        assert figures["rows"] == _expected_rows(dataset)
        assert figures["upgrade_ok"] is True
        assert "ix_region_location" in figures["indexes_rebuilt"]
        assert national.national_database_ready(url, expected_villages=len(dataset.villages))
        assert not national.national_database_ready(url, expected_villages=len(dataset.villages) + 1)
        _check_through_api(url, dataset)
    finally:
        national.drop_database(server, name)
