"""Reading region files: GeoJSON, GeoPackage, zipped Shapefile and CSV, with row errors."""
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Point, box

import gis
from gis import RowError

DATA = Path(__file__).parent / "data"
REGIONS = DATA / "gis_regions.geojson"


@pytest.fixture
def region_files(tmp_path):
    """The tiny GeoJSON written as a GeoPackage and as a zipped Shapefile."""
    frame = gpd.read_file(REGIONS)
    gpkg = tmp_path / "gis_regions.gpkg"
    frame.to_file(gpkg, driver="GPKG", layer="regions")
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    # Shapefile field names have at most 10 characters: name them as real exports do.
    truncated = frame.rename(columns={"agricultural_population": "agricultur", "parent_code": "parent_cod"})
    truncated.to_file(shp_dir / "gis_regions.shp", driver="ESRI Shapefile", encoding="UTF-8")
    archive = tmp_path / "gis_regions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, part.name)
    return {"geojson": REGIONS, "gpkg": gpkg, "zip": archive}


def by_code(result):
    return {r["code"]: r for r in result.records}


@pytest.mark.parametrize("kind", ["geojson", "gpkg", "zip"])
def test_polygon_files_in_every_gis_format(region_files, kind):
    result = gis.read_region_file(region_files[kind])
    assert result.ok and result.errors == []
    records = by_code(result)
    assert sorted(records) == ["140105", "140105101", "140105201"]

    county = records["140105"]
    assert county["name"] == "小店区"
    assert (county["level"], county["parent_code"]) == ("county", "140100")
    counts = (county["population"], county["agricultural_population"], county["households"])
    assert counts == (1_000_000, 200_000, 350_000)
    assert isinstance(county["boundary"], MultiPolygon)
    assert county["boundary"].equals(MultiPolygon([box(112.5, 37.7, 112.7, 37.8)]))
    assert county["boundary"].contains(Point(county["lon"], county["lat"]))

    town = records["140105101"]  # given as 140105101000 in the file
    assert (town["level"], town["parent_code"]) == ("township", "140105")

    xiang = records["140105201"]  # level and parent_code empty in the file: derived
    assert (xiang["level"], xiang["parent_code"]) == ("township", "140105")
    assert len(xiang["boundary"].geoms) == 2
    assert xiang["boundary"].area == pytest.approx(0.1 * 0.05 + 0.02 * 0.02)
    assert xiang["boundary"].contains(Point(xiang["lon"], xiang["lat"]))


def test_point_geojson_with_errors():
    result = gis.read_region_file(DATA / "gis_villages.geojson")
    assert [r["code"] for r in result.records] == ["140105101201"]
    record = result.records[0]
    assert (record["lon"], record["lat"], record["boundary"]) == (112.55, 37.72, None)
    assert (record["level"], record["parent_code"]) == ("village", "140105101")
    assert result.errors == [
        RowError(2, "agricultural_population", "农业人口不能大于总人口"),
        RowError(3, "geometry", "缺少几何图形"),
    ]


def test_csv_records():
    result = gis.read_region_file(DATA / "gis_villages.csv")
    assert result.ok
    assert result.records[1] == {
        "code": "140105101202", "name": "示例村二", "level": "village", "parent_code": "140105101",
        "lon": 112.56, "lat": 37.73, "population": 900, "agricultural_population": 600,
        "households": 300, "boundary": None, "_row": 2,
    }
    assert result.records[2]["parent_code"] == "140105201"  # 12-digit padded parent accepted


def test_csv_bad_rows_are_all_reported():
    result = gis.read_region_file(DATA / "gis_bad_villages.csv")
    assert [r["code"] for r in result.records] == ["140105101201"]
    assert result.errors == [
        RowError(2, "code", "区划代码必须是 6、9 或 12 位数字 (got '14010510120')"),
        RowError(3, "name", "名称不能为空"),
        RowError(3, "lon", "经度必须是 -180 到 180 之间的数字"),
        RowError(4, "lat", "纬度必须是 -90 到 90 之间的数字"),
        RowError(4, "population", "必须是非负整数"),
        RowError(4, "agricultural_population", "必须是非负整数"),
        RowError(4, "households", "必须是非负整数"),
        RowError(5, "agricultural_population", "农业人口不能大于总人口"),
        RowError(6, "code", "区划代码重复（与第 1 行相同）"),
        RowError(7, "level", "级别与区划代码不符（应为 village）"),
        RowError(7, "parent_code", "140106101 不是 140105101207 的上级区划"),
    ]


def test_missing_columns_are_file_errors(tmp_path):
    path = tmp_path / "no_counts.csv"
    path.write_text("code,name,lon,lat\n140105101201,示例村,112.5,37.7\n", encoding="utf-8")
    result = gis.read_region_file(path)
    assert result.records == []
    assert result.errors == [
        RowError(0, "population", "缺少必需的列"),
        RowError(0, "agricultural_population", "缺少必需的列"),
        RowError(0, "households", "缺少必需的列"),
    ]


def test_households_cannot_exceed_population_and_duplicates_across_chunks(tmp_path):
    path = tmp_path / "dup.csv"
    rows = ["code,name,lon,lat,population,agricultural_population,households"]
    rows += [f"1401051012{i:02d},村{i},112.5,37.7,10,5,4" for i in range(1, 6)]
    rows += ["140105101201,重复,112.5,37.7,10,5,11"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = gis.read_region_file(path, chunk_rows=2)
    assert len(result.records) == 5
    assert result.errors == [
        RowError(6, "code", "区划代码重复（与第 1 行相同）"),
        RowError(6, "households", "户数不能大于总人口"),
    ]


def test_chinese_headers_and_gb18030(tmp_path):
    path = tmp_path / "gbk.csv"
    text = "区划代码,名称,经度,纬度,人口,农业人口,户数\n140105101201,示例村一,112.55,37.72,1200,800,410\n"
    path.write_bytes(text.encode("gb18030"))
    result = gis.read_region_file(path)
    assert result.ok
    assert result.records[0]["name"] == "示例村一"
    assert result.records[0]["agricultural_population"] == 800


def test_from_gcj02_converts_points_and_boundaries(tmp_path):
    wgs = gis.read_region_file(REGIONS)
    gcj = gis.read_region_file(REGIONS, from_gcj02=True)
    county_wgs, county_gcj = by_code(wgs)["140105"], by_code(gcj)["140105"]
    x0, y0 = county_gcj["boundary"].geoms[0].exterior.coords[0]
    expected = gis.gcj02_to_wgs84(112.5, 37.7)
    assert (x0, y0) == pytest.approx(expected, abs=1e-12)
    assert county_gcj["boundary"].contains(Point(county_gcj["lon"], county_gcj["lat"]))
    # The GCJ-02 offset near 太原 is a few hundred metres.
    shift = gis.great_circle_km(county_wgs["lon"], county_wgs["lat"], county_gcj["lon"], county_gcj["lat"])
    assert 0.1 < shift < 0.7

    csv = gis.read_region_file(DATA / "gis_villages.csv", from_gcj02=True)
    assert (csv.records[0]["lon"], csv.records[0]["lat"]) == pytest.approx(gis.gcj02_to_wgs84(112.55, 37.72))


def test_progress_callback_and_chunked_iteration(tmp_path):
    path = tmp_path / "many.csv"
    rows = ["code,name,lon,lat,population,agricultural_population,households"]
    rows += [f"140105101{200 + i:03d},村{i},112.5,37.7,10,5,4" for i in range(1, 8)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    calls = []
    result = gis.read_region_file(path, progress=lambda done, total: calls.append((done, total)), chunk_rows=3)
    assert calls == [(3, 7), (6, 7), (7, 7)]
    assert len(result.records) == 7
    chunks = list(gis.iter_region_file(path, chunk_rows=3))
    assert [len(c.records) for c in chunks] == [3, 3, 1]
    assert chunks[-1].records[0]["code"] == "140105101207"


def test_gis_chunks_report_feature_counts():
    chunks = list(gis.iter_region_file(REGIONS, chunk_rows=2))
    assert [(c.rows_done, c.rows_total) for c in chunks] == [(2, 3), (3, 3)]


def test_projected_crs_is_reprojected(tmp_path):
    frame = gpd.read_file(DATA / "gis_villages.geojson").iloc[:1].to_crs("EPSG:32649")  # UTM 49N
    path = tmp_path / "utm.gpkg"
    frame.to_file(path, driver="GPKG")
    record = gis.read_region_file(path).records[0]
    assert (record["lon"], record["lat"]) == pytest.approx((112.55, 37.72), abs=1e-7)


def test_unsupported_and_unreadable_files(tmp_path):
    with pytest.raises(gis.RegionFileError, match="不支持的文件格式"):
        gis.read_region_file(tmp_path / "regions.xlsx")
    broken = tmp_path / "broken.gpkg"
    broken.write_text("not a geopackage")
    with pytest.raises(gis.RegionFileError):
        gis.read_region_file(broken)


def test_empty_csv_with_header_only(tmp_path):
    path = tmp_path / "empty.csv"
    shutil.copy(DATA / "gis_villages.csv", path)
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    result = gis.read_region_file(path)
    assert result.records == [] and result.errors == []


def test_bad_parent_code_and_unknown_level(tmp_path):
    path = tmp_path / "hierarchy.csv"
    path.write_text(
        "code,name,lon,lat,population,agricultural_population,households,parent_code,level\n"
        "140105101201,甲,112.5,37.7,10,5,4,14x,\n"
        "140105101202,乙,112.5,37.7,10,5,4,140105,village\n"
        "140105101203,丙,112.5,37.7,10,5,4,,city\n",
        encoding="utf-8",
    )
    result = gis.read_region_file(path)
    assert result.records[0]["parent_code"] == "140105"  # a farther ancestor is accepted as given
    assert result.errors == [
        RowError(1, "parent_code", "上级代码无效: 区划代码必须是 6、9 或 12 位数字 (got '14x')"),
        RowError(3, "level", "级别必须是 province/prefecture/county/township/village 之一"),
    ]
