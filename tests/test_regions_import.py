"""``flask regions import``: formats, progress, per-row errors, all-or-nothing, GCJ-02."""
from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from app.extensions import db
from app.regions.models import Region

DATA = "tests/data"


def count(app, prefix="1401"):
    with app.app_context():
        return db.session.query(Region).filter(Region.code.like(prefix + "%")).count()


def test_csv_import_with_progress(app, runner):
    before = count(app)
    result = runner.invoke(args=["regions", "import", f"{DATA}/regions_good.csv"])
    assert result.exit_code == 0, result.output
    assert "已导入 3 个区划" in result.output and "导入区划" in result.output
    assert count(app) == before + 3
    with app.app_context():
        village = db.session.get(Region, "140107001001")
        assert village.parent_code == "140107001" and village.level == "village"
        assert (village.lon, village.lat, village.population) == (112.581, 37.901, 3000)


def test_bad_file_imports_nothing_and_names_each_row(app, runner):
    before = count(app)
    result = runner.invoke(args=["regions", "import", f"{DATA}/regions_bad.csv"])
    assert result.exit_code != 0
    out = result.output
    assert "第 2 行  字段 code" in out
    assert "第 3 行  字段 name" in out
    assert "第 4 行  字段 lon" in out
    assert "第 5 行  字段 population" in out
    assert "未导入任何数据" in out
    assert count(app) == before


def test_skip_bad_imports_the_good_rows(app, runner):
    result = runner.invoke(args=["regions", "import", f"{DATA}/regions_bad.csv", "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "已导入 1 个区划" in result.output
    with app.app_context():
        assert db.session.get(Region, "140108").name == "尖草坪区"
        assert db.session.get(Region, "140110") is None


def test_missing_parent_is_a_row_error(app, runner, tmp_path):
    path = tmp_path / "orphan.csv"
    path.write_text("code,name,lon,lat,population,agricultural_population,households\n150102001,孤儿镇,111.7,40.8,100,50,30\n", encoding="utf-8")
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code != 0
    assert "第 1 行  字段 parent_code" in result.output and "150102" in result.output


@pytest.mark.parametrize("driver, suffix", [("GeoJSON", ".geojson"), ("GPKG", ".gpkg"), ("ESRI Shapefile", ".zip")])
def test_gis_formats_with_boundaries(app, runner, tmp_path, driver, suffix):
    frame = gpd.GeoDataFrame(
        {"code": ["140107"], "name": ["杏花岭区"], "population": [600000],
         "agricultural_population": [50000], "households": [210000]},
        geometry=[shapely.box(112.55, 37.85, 112.65, 37.95)], crs="EPSG:4326")
    if suffix == ".zip":
        folder = tmp_path / "shp"
        folder.mkdir()
        frame.to_file(folder / "regions.shp", driver=driver, encoding="utf-8")
        import zipfile

        path = tmp_path / "regions.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for file in folder.iterdir():
                archive.write(file, file.name)
    else:
        path = tmp_path / f"regions{suffix}"
        frame.to_file(path, driver=driver)
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        region = db.session.get(Region, "140107")
        assert region.boundary.geom_type == "MultiPolygon"
        assert region.boundary.area == pytest.approx(0.01)
        assert shapely.Point(region.lon, region.lat).within(region.boundary)


def test_from_gcj02_converts_to_wgs84(app, runner, tmp_path):
    import gis

    lon, lat = gis.wgs84_to_gcj02(112.57, 37.89)
    path = tmp_path / "gcj.csv"
    path.write_text(f"code,name,lon,lat,population,agricultural_population,households\n140107,杏花岭区,{float(lon)},{float(lat)},1,0,1\n", encoding="utf-8")
    assert runner.invoke(args=["regions", "import", str(path), "--from-gcj02"]).exit_code == 0
    with app.app_context():
        region = db.session.get(Region, "140107")
        assert gis.great_circle_km(region.lon, region.lat, 112.57, 37.89) < 0.001


def test_import_updates_existing_regions(app, runner, tmp_path):
    path = tmp_path / "update.csv"
    path.write_text("code,name,lon,lat,population,agricultural_population,households\n140106,迎泽区（新）,112.56,37.86,650000,40000,220000\n", encoding="utf-8")
    assert runner.invoke(args=["regions", "import", str(path)]).exit_code == 0
    with app.app_context():
        region = db.session.get(Region, "140106")
        assert (region.name, region.population, region.parent_code) == ("迎泽区（新）", 650000, "140100")


def test_missing_columns_are_named(app, runner, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("code,name,lon,lat\n140107,杏花岭区,112.5,37.8\n", encoding="utf-8")
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code != 0
    assert "字段 population：缺少必需的列" in result.output


def test_import_is_audited(app, runner):
    runner.invoke(args=["regions", "import", f"{DATA}/regions_good.csv"])
    from app.models_common import AuditEntry

    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="region.import").one()
        assert entry.after["rows"] == 3


def test_rows_without_a_value_take_the_column_default_in_one_chunk(app):
    """Records of one chunk need not carry the same keys (the demo's province has no
    ``synthetic``, its villages do): a missing or ``None`` value takes the column's default on an
    insert, on SQLite and on PostgreSQL alike."""
    from app.regions.service import import_regions

    with app.app_context():
        outcome = import_regions(None, [
            {"code": "150000", "name": "内蒙古自治区", "population": 1, "lon": 111.7, "lat": 40.8},
            {"code": "150100", "name": "呼和浩特市", "population": None, "lon": 111.7, "lat": 40.8,
             "synthetic": True},
            {"code": "150200", "name": "包头市", "lon": 110.0, "lat": 40.6, "synthetic": None},
        ], source="test")
        assert outcome.imported == 3 and not outcome.errors
        rows = {r.code: (r.synthetic, r.population, r.parent_code)
                for r in db.session.query(Region).filter(Region.code.like("15%"))}
    assert rows == {"150000": (False, 1, None), "150100": (True, 0, "150000"), "150200": (False, 0, "150000")}


def test_a_code_twice_in_the_records_the_last_wins(app):
    """The service (not the file reader, which refuses duplicates) given one code twice writes
    the last, on both engines."""
    from app.regions.service import import_regions

    with app.app_context():
        outcome = import_regions(None, [
            {"code": "150000", "name": "旧名", "population": 1, "lon": 111.7, "lat": 40.8},
            {"code": "150000", "name": "内蒙古自治区", "population": 2, "lon": 111.7, "lat": 40.8},
        ], source="test")
        assert not outcome.errors
        region = db.session.get(Region, "150000")
        assert (region.name, region.population) == ("内蒙古自治区", 2)
