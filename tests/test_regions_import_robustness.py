"""``flask regions import`` on hostile and broken files: every failure is one clean message and
exit code 1 (no traceback), and the database is left exactly as it was."""
from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely

import gis
from app.extensions import db
from app.regions.models import Region

HEADER = "code,name,lon,lat,population,agricultural_population,households\n"


def snapshot(app) -> list[tuple]:
    with app.app_context():
        return [(r.code, r.name, r.population, r.source) for r in db.session.query(Region).order_by(Region.code)]


def refused(app, runner, before, path, *args, message: str):
    """Run the import; assert a clean refusal that names ``message`` and changed nothing."""
    result = runner.invoke(args=["regions", "import", str(path), *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a ClickException, not a crash
    assert "Traceback" not in result.output
    assert message in result.output, result.output
    assert snapshot(app) == before
    return result.output


def frame(rows: int = 1):
    return gpd.GeoDataFrame(
        {"code": [str(140107 + i) for i in range(rows)], "name": [f"区{i}" for i in range(rows)],
         "population": [1000] * rows, "agricultur": [10] * rows, "households": [300] * rows},
        geometry=[shapely.box(112.5 + i, 37.8, 112.6 + i, 37.9) for i in range(rows)], crs="EPSG:4326")


def shapefile(tmp_path, parts=(".shp", ".shx", ".dbf", ".prj", ".cpg"), names=None, rows: int = 1):
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    frame(rows).to_file(folder / "regions.shp", driver="ESRI Shapefile", encoding="UTF-8")
    path = tmp_path / "regions.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix in parts:
            archive.write(folder / f"regions{suffix}", (names or {}).get(suffix, f"regions{suffix}"))
    return path


@pytest.mark.parametrize("content, message", [
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": ', "无法读取 GeoJSON 文件"),
    ("this is not json at all", "无法读取 GeoJSON 文件"),
    ('{"hello": [1, 2, 3]}', "无法读取 GeoJSON 文件"),
    ("", "无法读取 GeoJSON 文件"),
])
def test_malformed_geojson_is_one_clean_error(app, runner, tmp_path, content, message):
    before = snapshot(app)
    path = tmp_path / "regions.geojson"
    path.write_text(content, encoding="utf-8")
    refused(app, runner, before, path, message=message)
    refused(app, runner, before, path, "--skip-bad", message="未导入任何数据")


def test_not_a_zip_and_a_truncated_zip(app, runner, tmp_path):
    before = snapshot(app)
    fake = tmp_path / "regions.zip"
    fake.write_text("code,name\n140107,x\n", encoding="utf-8")
    refused(app, runner, before, fake, message="压缩包已损坏或不是 zip 文件")
    good = shapefile(tmp_path).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])
    refused(app, runner, before, cut, message="压缩包已损坏或不是 zip 文件")


def test_zip_bomb_is_refused_from_the_directory_before_extraction(app, runner, tmp_path, monkeypatch):
    before = snapshot(app)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix in (".shp", ".shx"):
            archive.writestr(f"regions{suffix}", b"\0" * 100)
        archive.writestr("regions.dbf", b"\0" * (3 * 1024 * 1024))  # 3 MB of zeros: about 3 KB zipped
    assert path.stat().st_size < 20_000
    app.config["REGION_FILE_MAX_UNZIPPED_BYTES"] = 1024 * 1024
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or real_open(self, *a, **k))
    out = refused(app, runner, before, path, message="压缩炸弹")
    assert "未解压" in out and opened == []  # judged from the directory: nothing was read


def test_extraction_stops_at_the_cap_even_when_the_directory_agrees(tmp_path):
    """The byte budget while extracting is the second line: with the cap between the declared
    total and what the parts need, extraction still stops (and nothing is left behind)."""
    path = shapefile(tmp_path)
    total = sum(m.file_size for m in zipfile.ZipFile(path).infolist())
    target = tmp_path / "out"
    target.mkdir()
    from gis import _reader

    with pytest.raises(gis.RegionFileError, match="压缩炸弹"):
        _reader._extract_shapefile(path, target, total - 1)
    extracted = _reader._extract_shapefile(path, target, total)
    assert extracted.name == "regions.shp" and extracted.exists()


@pytest.mark.parametrize("parts, message", [
    ((".shp", ".prj"), "缺少组成文件：.shx、.dbf"),
    ((".shp", ".shx", ".prj"), "缺少组成文件：.dbf"),
    ((".dbf", ".prj"), "压缩包中没有 .shp 文件"),
])
def test_shapefile_missing_parts(app, runner, tmp_path, parts, message):
    before = snapshot(app)
    refused(app, runner, before, shapefile(tmp_path, parts), message=message)


def test_unsafe_member_names_and_two_shapefiles(app, runner, tmp_path):
    before = snapshot(app)
    evil = shapefile(tmp_path, names={".shp": "../../regions.shp"})
    refused(app, runner, before, evil, message="文件名不安全")
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        for name in ("a.shp", "a.shx", "a.dbf", "b/b.shp", "b/b.shx", "b/b.dbf"):
            archive.writestr(name, b"x")
    refused(app, runner, before, two, message="2 个 .shp 文件")


def test_bare_shapefile_missing_its_dbf(app, runner, tmp_path):
    before = snapshot(app)
    shapefile(tmp_path)
    (tmp_path / "shp" / "regions.dbf").unlink()
    refused(app, runner, before, tmp_path / "shp" / "regions.shp", message="缺少组成文件：.dbf")


def test_a_good_zipped_shapefile_in_a_folder_still_imports(app, runner, tmp_path):
    path = shapefile(tmp_path, names={s: f"export/regions{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")})
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(Region, "140107").name == "区0"


def test_row_errors_the_database_would_refuse(app, runner, tmp_path):
    before = snapshot(app)
    path = tmp_path / "hostile.csv"
    path.write_text(HEADER
                    + "140108,尖草坪区,112.48,37.94,400000,60000,140000\n"
                    + f"140109,{'长' * 101},112.0,37.0,100,10,30\n"
                    + "14010,短代码,112.0,37.0,100,10,30\n"
                    + "140110,晋源区,112.0,37.0,abc,10,30\n"
                    + "140111,古交市,112.0,37.0,99999999999,10,30\n"
                    + "140112,\"控制\x01字符\",112.0,37.0,100,10,30\n", encoding="utf-8")
    out = refused(app, runner, before, path, message="未导入任何数据")
    assert "第 2 行  字段 name：名称过长（101 个字符，最多 100 个）" in out
    assert "第 3 行  字段 code" in out
    assert "第 4 行  字段 population：必须是非负整数" in out
    assert "第 5 行  字段 population：不能大于 2147483647" in out
    assert "第 6 行  字段 name：名称不能含有控制字符" in out
    assert "第 1 行" not in out

    result = runner.invoke(args=["regions", "import", str(path), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "已导入 1 个区划；跳过 5 行" in result.output
    with app.app_context():
        assert db.session.get(Region, "140108").name == "尖草坪区"
        assert db.session.get(Region, "140109") is None


def test_over_long_name_in_geojson_is_a_row_error(app, runner, tmp_path):
    before = snapshot(app)
    data = frame(2).rename(columns={"agricultur": "agricultural_population"})
    data.loc[1, "name"] = "名" * 150
    path = tmp_path / "long.geojson"
    data.to_file(path, driver="GeoJSON")
    out = refused(app, runner, before, path, message="第 2 行  字段 name：名称过长")
    assert "第 1 行" not in out


def test_a_database_refusal_leaves_nothing_half_imported(app, runner, tmp_path, monkeypatch):
    from sqlalchemy.exc import DataError

    from app.regions import service

    before = snapshot(app)
    path = tmp_path / "two.csv"
    path.write_text(HEADER + "140108,尖草坪区,112.48,37.94,400000,60000,140000\n"
                    + "140109,万柏林区,112.5,37.86,700000,20000,250000\n", encoding="utf-8")
    real_upsert, calls = service._upsert, []

    def failing_upsert(chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise DataError("INSERT", {}, Exception("value too long for type character varying(100)"))
        real_upsert(chunk)

    monkeypatch.setattr(service, "IMPORT_CHUNK", 1)
    monkeypatch.setattr(service, "_upsert", failing_upsert)
    refused(app, runner, before, path, message="数据库拒绝写入")
    assert calls == [1, 1]  # the first row was written, then rolled back with the second


def test_float_codes_from_gis_files_read_as_codes(tmp_path):
    """A code column with a missing value comes back from GDAL as float (140107.0)."""
    data = frame(2).rename(columns={"agricultur": "agricultural_population"})
    data["code"] = [140107.0, None]
    path = tmp_path / "floats.geojson"
    data.to_file(path, driver="GeoJSON")
    result = gis.read_region_file(path)
    assert [r["code"] for r in result.records] == ["140107"]
    assert [(e.row, e.field) for e in result.errors] == [(2, "code")]


def test_binary_garbage_csv(app, runner, tmp_path):
    before = snapshot(app)
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"\x00\xff\xfe" * 1000)
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert snapshot(app) == before


def test_gis_files_are_read_in_chunks(tmp_path):
    data = frame(5).rename(columns={"agricultur": "agricultural_population"})
    path = tmp_path / "five.gpkg"
    data.to_file(path, driver="GPKG")
    chunks = list(gis.iter_region_file(path, chunk_rows=2))
    assert [(len(c.records), c.rows_done, c.rows_total) for c in chunks] == [(2, 2, 5), (2, 4, 5), (1, 5, 5)]
    assert [r["_row"] for c in chunks for r in c.records] == [1, 2, 3, 4, 5]


def test_a_value_the_server_refuses_in_the_bulk_copy_is_a_clean_refusal(app, runner, tmp_path, monkeypatch):
    """On PostgreSQL the rows travel by COPY into a temporary table of the transaction: a value
    refused there is the same clean 数据库拒绝写入 as a refused INSERT, and nothing stays."""
    from app.regions import service

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the COPY path is PostgreSQL's; SQLite does not enforce VARCHAR lengths")
    before = snapshot(app)
    monkeypatch.setattr(service, "_SOURCE_LENGTH", 1000)  # let a 250-character source reach the server
    path = tmp_path / ("s" * 246 + ".csv")
    path.write_text(HEADER + "140108,尖草坪区,112.48,37.94,400000,60000,140000\n", encoding="utf-8")
    assert len(str(path)) > 250
    refused(app, runner, before, path, message="数据库拒绝写入")
