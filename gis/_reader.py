"""Reading region files (行政区划数据导入): GeoJSON, GeoPackage, zipped Shapefile and CSV.

Every row is validated and every problem is reported as a :class:`RowError`; valid rows become
plain records ready for the database. Validation is vectorised with pandas, chunk by chunk, so a
500,000-row file reads in seconds and a caller can draw a progress bar. GIS files are read
chunk by chunk too (``skip_features``/``max_features``), and a zipped Shapefile is checked from
the zip directory (size, member names, missing parts) before it is extracted, within a byte cap,
into a temporary directory: a zip bomb or a broken archive is a :class:`RegionFileError`.
"""
from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import codes
from ._datum import gcj02_to_wgs84
from ._frames import as_multipolygon

REQUIRED = ("code", "name", "population", "agricultural_population", "households")
COUNTS = ("population", "agricultural_population", "households")
OPTIONAL = ("parent_code", "level")
RECORD_FIELDS = ("code", "name", "level", "parent_code", "lon", "lat", *COUNTS, "boundary")
DEFAULT_CHUNK_ROWS = 50_000
#: Counts are 32-bit integers in every database the records are meant for.
COUNT_MAX = 2_147_483_647
#: What a zipped Shapefile may expand to, all members together (a zip bomb is refused).
DEFAULT_MAX_UNZIPPED_BYTES = 2 * 1024 * 1024 * 1024
_MAX_ZIP_MEMBERS = 1_000
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")  # .prj and .cpg are optional
_SHAPEFILE_EXTRAS = (".prj", ".cpg")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: A code that :func:`codes.normalise` returns unchanged: 6 digits (not 00…, save the national
#: 000000), 9 not ending in 000, 12 not ending in 000.
_CANONICAL_CODE = re.compile(r"000000|(?!00)\d{6}(?:(?!000)\d{3}|\d{3}(?!000)\d{3})?")

_GIS_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage",
                 ".zip": "Shapefile (zip)", ".shp": "Shapefile"}


@dataclass(frozen=True)
class RowError:
    """One problem in a region file.

    Attributes
    ----------
    row : int
        1-based data row number (the first row after the CSV header, or the first feature, is
        1); 0 for a problem with the file itself, such as a missing column.
    field : str
        The column concerned (``code``, ``lon``, ``geometry``, ...).
    reason : str
        Human-readable reason, in Chinese.
    """

    row: int
    field: str
    reason: str


@dataclass
class ReadResult:
    """Valid records and every error found.

    ``records`` are dicts with ``code``, ``name``, ``level``, ``parent_code``, ``lon``, ``lat``,
    ``population``, ``agricultural_population``, ``households``, ``boundary`` (a shapely
    MultiPolygon, or None for point data) and ``_row`` (the 1-based data row number, so a later
    check can name the row). A row with any error yields no record.
    """

    records: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file had no errors at all."""
        return not self.errors


@dataclass
class ReadChunk(ReadResult):
    """One chunk from :func:`iter_region_file`, with progress counters.

    ``rows_done`` data rows have been read so far out of about ``rows_total`` (exact for GIS
    files; for CSV counted from line breaks, so quoted line breaks can inflate it).
    """

    rows_done: int = 0
    rows_total: int = 0


class RegionFileError(ValueError):
    """The file cannot be read at all (unknown format, unreadable, not a table)."""


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "CSV"
    if suffix in _GIS_SUFFIXES:
        return _GIS_SUFFIXES[suffix]
    raise RegionFileError(f"不支持的文件格式: {path.suffix or path.name}（支持 .geojson .gpkg .zip .shp .csv）")


def _csv_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the sample's end
            return "gb18030"
    return "utf-8-sig"


def _count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


# Other spellings met in practice: Shapefile's 10-character field names, and Chinese headers.
_ALIASES = {
    "agricultur": "agricultural_population", "agri_pop": "agricultural_population",
    "parent_cod": "parent_code", "parent": "parent_code",
    "lng": "lon", "long": "lon", "longitude": "lon", "latitude": "lat",
    "代码": "code", "区划代码": "code", "名称": "name", "经度": "lon", "纬度": "lat",
    "人口": "population", "总人口": "population", "户籍人口": "population",
    "农业人口": "agricultural_population", "农牧业人口": "agricultural_population",
    "户数": "households", "上级代码": "parent_code", "级别": "level",
}


def _canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-case, trimmed column names with known aliases resolved (a real name wins)."""
    renames = {}
    for column in frame.columns:
        if column == getattr(frame, "_geometry_column_name", None):
            continue
        key = str(column).strip().lower()
        renames[column] = key
    names = set(renames.values())
    for column, key in renames.items():
        target = _ALIASES.get(key)
        if target and target not in names:
            renames[column] = target
            names.add(target)
    return frame.rename(columns=renames)


def _missing_columns(columns, needs_location: bool) -> list[RowError]:
    needed = list(REQUIRED) + (["lon", "lat"] if needs_location else [])
    return [RowError(0, name, "缺少必需的列") for name in needed if name not in columns]


class _Validator:
    """Validates successive chunks, remembering codes seen in earlier chunks."""

    def __init__(self, from_gcj02: bool):
        self.from_gcj02 = from_gcj02
        self.first_row: dict[str, int] = {}

    def __call__(self, frame: pd.DataFrame, start_row: int,
                 geometry: np.ndarray | None) -> tuple[list[dict], list[RowError]]:
        n = len(frame)
        rows = np.arange(start_row, start_row + n)
        errors: list[tuple[np.ndarray, str, str | np.ndarray]] = []
        bad = np.zeros(n, dtype=bool)

        def flag(mask: np.ndarray, column: str, reason) -> None:
            nonlocal bad
            mask = np.asarray(mask, dtype=bool)
            if mask.any():
                errors.append((mask, column, reason))
                bad |= mask

        def text(column: str) -> pd.Series:
            if column not in frame.columns:
                return pd.Series([""] * n, index=frame.index, dtype=object)
            values = frame[column]
            if pd.api.types.is_float_dtype(values):
                # a code column with a missing value comes from GIS files as float: 140105.0
                whole = values.notna() & np.isfinite(values) & (values == np.floor(values)) & (values.abs() < 1e15)
                values = values.astype(object).where(~whole, values.where(whole, 0).astype(np.int64).astype(object))
            return values.astype(object).where(values.notna(), "").astype(str).str.strip()

        code_np, code_error = self._codes(text("code"))
        valid_code = code_error == ""
        flag(~valid_code, "code", code_error)

        earlier = pd.Series(code_np).map(self.first_row).to_numpy(dtype=float)
        within = pd.Series(code_np).duplicated(keep="first").to_numpy() & valid_code
        duplicate = valid_code & (np.isfinite(earlier) | within)
        if duplicate.any():
            by_code = pd.Series(rows).groupby(pd.Series(code_np).fillna("")).transform("min")
            first = np.where(np.isfinite(earlier), earlier, by_code.to_numpy()).astype(np.int64)
            flag(duplicate, "code", np.array([f"区划代码重复（与第 {r} 行相同）" for r in first], dtype=object))
        fresh = valid_code & ~duplicate
        self.first_row.update(zip(code_np[fresh], rows[fresh].tolist()))

        name_text = text("name")
        names = name_text.to_numpy(dtype=object)
        flag(names == "", "name", "名称不能为空")
        flag(name_text.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool), "name", "名称不能含有控制字符")

        lon, lat, boundary, unlocated = self._location(frame, geometry, n, flag)
        flag(~unlocated & ~(np.isfinite(lon) & (lon >= -180) & (lon <= 180)),
             "lon", "经度必须是 -180 到 180 之间的数字")
        flag(~unlocated & ~(np.isfinite(lat) & (lat >= -90) & (lat <= 90)),
             "lat", "纬度必须是 -90 到 90 之间的数字")

        counts, good = {}, {}
        for column in COUNTS:
            values = pd.to_numeric(text(column), errors="coerce").to_numpy(float)
            good[column] = np.isfinite(values) & (values >= 0) & (np.floor(values) == values)
            flag(~good[column], column, "必须是非负整数")
            too_big = good[column] & (values > COUNT_MAX)
            flag(too_big, column, f"不能大于 {COUNT_MAX}")
            good[column] &= ~too_big
            counts[column] = np.where(good[column], values, 0).astype(np.int64)
        for column, reason in (("agricultural_population", "农业人口不能大于总人口"),
                               ("households", "户数不能大于总人口")):
            flag(good["population"] & good[column] & (counts[column] > counts["population"]),
                 column, reason)

        level, parent = self._hierarchy(code_np, valid_code, text("level"), text("parent_code"), flag)

        out_errors = self._row_errors(errors, rows)
        keep = ~bad
        columns = {
            "code": code_np[keep], "name": names[keep], "level": level[keep],
            "parent_code": parent[keep], "lon": lon[keep], "lat": lat[keep],
            **{key: counts[key][keep] for key in COUNTS}, "boundary": boundary[keep],
            "_row": rows[keep],
        }
        keys = list(columns)
        records = [dict(zip(keys, row)) for row in zip(*(v.tolist() for v in columns.values()))]
        return records, out_errors

    @staticmethod
    def _codes(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Canonical codes (None when invalid) and the Chinese reason for each invalid one
        (empty when valid), as object arrays.

        Codes already in canonical form (nearly all of a real file) are recognised by one
        regular expression over the column; only the others go through :func:`codes.normalise`.
        """
        values = raw.to_numpy(dtype=object)
        canonical = np.full(len(values), None, dtype=object)
        reasons = np.full(len(values), "", dtype=object)
        if len(values) == 0:
            return canonical, reasons
        fast = raw.astype(str).str.fullmatch(_CANONICAL_CODE).to_numpy(dtype=bool)
        canonical[fast] = values[fast]
        slow = ~fast
        if slow.any():
            rest = pd.Series(values[slow], dtype=object)
            canon, reason = {}, {}
            for value in rest.unique():
                if value == "":
                    reason[value] = "区划代码不能为空"
                    continue
                try:
                    canon[value] = codes.normalise(value)
                except codes.CodeError as exc:
                    reason[value] = str(exc)
            mapped = rest.map(canon).astype(object)
            canonical[slow] = mapped.where(mapped.notna(), None).to_numpy(dtype=object)
            why = rest.map(reason).astype(object)
            reasons[slow] = why.where(why.notna(), "").to_numpy(dtype=object)
        return canonical, reasons

    def _location(self, frame, geometry, n, flag):
        boundary = np.full(n, None, dtype=object)
        if geometry is None:
            lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
            lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
            if self.from_gcj02:
                lon, lat = gcj02_to_wgs84(lon, lat)
            return lon, lat, boundary, np.zeros(n, dtype=bool)
        kind = shapely.get_type_id(geometry)
        empty = (kind < 0) | shapely.is_empty(geometry)
        point, polygon = (kind == 0) & ~empty, np.isin(kind, (3, 6)) & ~empty
        has_attributes = "lon" in frame.columns and "lat" in frame.columns
        flag(empty & ~has_attributes, "geometry", "缺少几何图形")
        flag(~empty & ~point & ~polygon, "geometry", "几何类型必须是点或面")
        geoms = geometry.copy()
        if self.from_gcj02 and (point | polygon).any():
            geoms[point | polygon] = shapely.transform(geoms[point | polygon], _gcj_coords)
        for i in np.flatnonzero(polygon):
            boundary[i] = as_multipolygon(geoms[i])
        fixed = np.array([b is not None for b in boundary], dtype=bool)
        flag(polygon & ~fixed, "geometry", "面几何无效，无法修复")
        anchor = np.full(n, None, dtype=object)
        anchor[point] = geoms[point]
        anchor[fixed] = shapely.point_on_surface(boundary[fixed])
        lon, lat = shapely.get_x(anchor), shapely.get_y(anchor)
        if has_attributes and empty.any():
            # A feature without geometry may still carry lon/lat attributes.
            attr_lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
            attr_lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
            if self.from_gcj02:
                attr_lon, attr_lat = gcj02_to_wgs84(attr_lon, attr_lat)
            lon = np.where(empty, attr_lon, lon)
            lat = np.where(empty, attr_lat, lat)
        unlocated = (empty & ~has_attributes) | (~empty & ~point & ~fixed)
        return lon.astype(float), lat.astype(float), boundary, unlocated

    @staticmethod
    def _hierarchy(code, valid, level_raw, parent_raw, flag):
        n = len(code)
        derived_level = np.full(n, None, dtype=object)
        derived_parent = np.full(n, None, dtype=object)
        uniques = pd.unique(code[valid])
        # The codes are canonical already (from _codes): no second normalisation per code.
        levels = {c: codes.canonical_level(c) for c in uniques}
        parents = {c: codes.canonical_parent(c) for c in uniques}
        derived_level[valid] = pd.Series(code[valid]).map(levels).to_numpy(dtype=object)
        derived_parent[valid] = pd.Series(code[valid]).map(parents).to_numpy(dtype=object)

        given_level = level_raw.to_numpy(dtype=object)
        has_level = given_level != ""
        unknown = has_level & ~np.isin(given_level, codes.LEVELS)
        flag(unknown, "level", f"级别必须是 {'/'.join(codes.LEVELS)} 之一")
        mismatch = has_level & ~unknown & valid & (given_level != derived_level)
        if mismatch.any():
            flag(mismatch, "level", np.array([f"级别与区划代码不符（应为 {lv}）" for lv in derived_level],
                                             dtype=object))

        parent = derived_parent.copy()
        given_parent = parent_raw.to_numpy(dtype=object)
        has_parent = (given_parent != "") & valid
        canon, reasons = _Validator._codes(pd.Series(given_parent[has_parent], dtype=object))
        canon_parent = np.full(n, None, dtype=object)
        canon_parent[has_parent] = canon
        reason = np.full(n, "", dtype=object)
        reason[has_parent] = reasons
        invalid = reason != ""
        flag(invalid, "parent_code", "上级代码无效: " + reason)
        # The usual case, the direct parent, is checked at once; others walk the ancestors.
        direct = has_parent & ~invalid & (canon_parent == derived_parent)
        other = np.flatnonzero(has_parent & ~invalid & ~direct)
        not_ancestor = np.zeros(n, dtype=bool)
        reason = np.full(n, "", dtype=object)
        for i in other:
            if canon_parent[i] in codes.ancestors(code[i]):
                parent[i] = canon_parent[i]
            else:
                not_ancestor[i] = True
                reason[i] = f"{canon_parent[i]} 不是 {code[i]} 的上级区划"
        flag(not_ancestor, "parent_code", reason)
        return derived_level, parent

    @staticmethod
    def _row_errors(errors, rows) -> list[RowError]:
        found = []
        for order, (mask, name, reason) in enumerate(errors):
            idx = np.flatnonzero(mask)
            reasons = reason[idx] if isinstance(reason, np.ndarray) else [reason] * len(idx)
            found.extend((int(rows[i]), order, name, r) for i, r in zip(idx, reasons))
        found.sort(key=lambda e: (e[0], e[1]))
        return [RowError(row, name, reason) for row, _, name, reason in found]


def _gcj_coords(xy: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.column_stack((lon, lat))


def _check_shapefile_parts(shp: Path) -> None:
    """A Shapefile is several files; name the ones missing next to ``shp``."""
    present = {p.name.lower() for p in shp.parent.iterdir()}
    stem = shp.stem.lower()
    missing = [suffix for suffix in _SHAPEFILE_PARTS if stem + suffix not in present]
    if missing:
        raise RegionFileError(f"Shapefile {shp.name} 缺少组成文件：{'、'.join(missing)}"
                              "（.shp、.shx、.dbf 三个文件缺一不可，请一起压缩）")


def _extract_shapefile(path: Path, into: Path, max_bytes: int) -> Path:
    """Extract the one Shapefile of the zip ``path`` into ``into``; return its ``.shp``.

    Everything is judged from the zip directory before a byte is extracted: the member count,
    the total expanded size against ``max_bytes``, names that would leave the directory, and
    the Shapefile's parts. Extraction then counts the bytes it writes, so a member that expands
    beyond what the directory declares stops at the cap too.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > _MAX_ZIP_MEMBERS:
                raise RegionFileError(f"压缩包中的文件过多（{len(members)} 个，最多 {_MAX_ZIP_MEMBERS} 个）")
            declared = sum(m.file_size for m in members)
            if declared > max_bytes:
                raise RegionFileError(f"压缩包解压后有 {declared} 字节，超过上限 {max_bytes} 字节（疑似“压缩炸弹”），未解压")
            for member in members:
                name = PurePosixPath(member.filename.replace("\\", "/"))
                if name.is_absolute() or ".." in name.parts or ":" in member.filename:
                    raise RegionFileError(f"压缩包中的文件名不安全：{member.filename!r}")
            shapefiles = [m for m in members if m.filename.lower().endswith(".shp")
                          and not PurePosixPath(m.filename).name.startswith("._")]
            if not shapefiles:
                raise RegionFileError("压缩包中没有 .shp 文件（应为压缩的 Shapefile：.shp、.shx、.dbf 等）")
            if len(shapefiles) > 1:
                names = "、".join(m.filename for m in shapefiles[:5])
                raise RegionFileError(f"压缩包中有 {len(shapefiles)} 个 .shp 文件（{names}），每次只能导入一个")
            shp = PurePosixPath(shapefiles[0].filename)
            wanted = {str(shp.with_suffix(s)).lower(): s for s in _SHAPEFILE_PARTS + _SHAPEFILE_EXTRAS}
            parts = {wanted[m.filename.lower()]: m for m in members if m.filename.lower() in wanted}
            missing = [s for s in _SHAPEFILE_PARTS if s not in parts]
            if missing:
                raise RegionFileError(f"压缩包中的 Shapefile {shp.name} 缺少组成文件：{'、'.join(missing)}"
                                      "（.shp、.shx、.dbf 三个文件缺一不可）")
            budget = max_bytes
            for suffix, member in parts.items():
                target = into / ("regions" + suffix)
                with archive.open(member) as source, open(target, "wb") as out:
                    while block := source.read(1 << 20):
                        budget -= len(block)
                        if budget < 0:
                            raise RegionFileError(f"压缩包解压后超过上限 {max_bytes} 字节（疑似“压缩炸弹”），已停止解压")
                        out.write(block)
            return into / "regions.shp"
    except RegionFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise RegionFileError(f"压缩包已损坏或不是 zip 文件：{exc}") from exc
    except OSError as exc:
        raise RegionFileError(f"无法读取压缩包：{exc.strerror or exc}") from exc


def _gis_info(source: str, kind: str) -> dict:
    try:
        info = pyogrio.read_info(source, force_feature_count=True)
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise RegionFileError(f"无法读取 {kind} 文件：{_first_line(exc)}") from exc
    if info.get("geometry_type") is None:
        raise RegionFileError(f"{kind} 文件没有几何图层")
    return info


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _read_gis(source: str, kind: str, skip: int, count: int) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(source, skip_features=skip, max_features=count)
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise RegionFileError(f"无法读取 {kind} 文件（第 {skip + 1} 个要素起）：{_first_line(exc)}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise RegionFileError(f"{kind} 文件没有几何图层")
    if frame.crs is not None and not frame.crs.equals("EPSG:4326") and frame.crs.to_epsg() != 4490:
        try:
            frame = frame.to_crs("EPSG:4326")  # CGCS2000 (EPSG:4490) equals WGS-84 to well under 1 m
        except Exception as exc:  # pyproj.CRSError and friends
            raise RegionFileError(f"无法把坐标系 {frame.crs} 转换为 WGS-84：{_first_line(exc)}") from exc
    return frame


def iter_region_file(path, from_gcj02: bool = False, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES) -> Iterator[ReadChunk]:
    """Read and validate a region file chunk by chunk.

    Parameters
    ----------
    path : str or Path
        A ``.geojson``/``.json``, ``.gpkg``, ``.zip`` (a zipped Shapefile), ``.shp`` or ``.csv``.
    from_gcj02 : bool, default False
        Coordinates are GCJ-02 (火星坐标系, e.g. exported from 高德/腾讯 maps) and are converted
        to WGS-84.
    chunk_rows : int
        Rows validated per chunk (and features read at a time from a GIS file).
    max_unzipped_bytes : int
        What a zipped Shapefile may expand to; more is refused before extraction.

    Yields
    ------
    ReadChunk
        Records and errors of each chunk with ``rows_done``/``rows_total`` for a progress bar.
        A file missing a required column yields one chunk of row-0 errors and stops.

    Raises
    ------
    RegionFileError
        Unknown suffix, or a file that cannot be opened: malformed GeoJSON, a damaged or
        non-zip ``.zip``, a zip expanding beyond ``max_unzipped_bytes``, a Shapefile missing
        its ``.shx`` or ``.dbf``, an unknown coordinate system.
    """
    path = Path(path)
    kind = _format_of(path)
    validate = _Validator(from_gcj02)
    if not path.is_file():
        raise RegionFileError(f"找不到文件 {path}")
    if kind == "CSV":
        yield from _iter_csv(path, validate, chunk_rows)
        return
    with ExitStack() as stack:
        if kind == "Shapefile (zip)":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jiuzai-regions-")))
            source = str(_extract_shapefile(path, folder, max_unzipped_bytes))
        else:
            if kind == "Shapefile":
                _check_shapefile_parts(path)
            source = str(path)
        yield from _iter_gis(source, kind, validate, chunk_rows)


def _iter_gis(source: str, kind: str, validate: _Validator, chunk_rows: int) -> Iterator[ReadChunk]:
    info = _gis_info(source, kind)
    total = max(int(info.get("features") or 0), 0)
    fields = [str(name) for name in info.get("fields", [])]
    missing = _missing_columns(_canonical_columns(pd.DataFrame(columns=fields)).columns, needs_location=False)
    if missing:
        yield ReadChunk([], missing, 0, total)
        return
    start = 0
    while start < total:
        frame = _canonical_columns(_read_gis(source, kind, start, chunk_rows))
        if len(frame) == 0:
            break
        geometry = frame.geometry.to_numpy()
        records, errors = validate(pd.DataFrame(frame.drop(columns=frame.geometry.name)), start + 1, geometry)
        start += len(frame)
        yield ReadChunk(records, errors, start, max(total, start))
    if total == 0:
        yield ReadChunk([], [], 0, 0)


def _iter_csv(path: Path, validate: _Validator, chunk_rows: int) -> Iterator[ReadChunk]:
    total = max(_count_lines(path) - 1, 0)
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_csv_encoding(path),
                             chunksize=chunk_rows, skipinitialspace=True)
        header_checked, done = False, 0
        for chunk in reader:
            chunk = _canonical_columns(chunk)
            if not header_checked:
                missing = _missing_columns(chunk.columns, needs_location=True)
                if missing:
                    yield ReadChunk([], missing, 0, total)
                    return
                header_checked = True
            records, errors = validate(chunk, done + 1, None)
            done += len(chunk)
            yield ReadChunk(records, errors, done, max(total, done))
        if not header_checked:
            yield ReadChunk([], [], 0, 0)
    except RegionFileError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise RegionFileError(f"无法读取 CSV 文件: {_first_line(exc)}") from exc


def read_region_file(path, from_gcj02: bool = False,
                     progress: Callable[[int, int], object] | None = None,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES) -> ReadResult:
    """Read and validate a region file (行政区划文件).

    Parameters
    ----------
    path : str or Path
        GeoJSON (``.geojson``/``.json``), GeoPackage (``.gpkg``), zipped Shapefile (``.zip``),
        Shapefile (``.shp``) or CSV (``.csv``, UTF-8 or GB18030). Columns ``code``, ``name``,
        ``population``, ``agricultural_population``, ``households``, optional ``parent_code``
        and ``level``; CSV also ``lon`` and ``lat`` (GIS files take the location from the
        geometry). Column names are matched case-insensitively; Shapefile's truncated names
        (``agricultur``, ``parent_cod``) and Chinese headers (代码, 名称, 经度, 纬度, 人口,
        农业人口, 户数, 上级代码, 级别) are understood too.
    from_gcj02 : bool, default False
        Convert GCJ-02 (火星坐标系) coordinates to WGS-84.
    progress : callable, optional
        Called as ``progress(rows_done, rows_total)`` after each chunk.
    chunk_rows : int
        Rows validated per chunk.
    max_unzipped_bytes : int
        What a zipped Shapefile may expand to (a zip bomb is refused before extraction).

    Returns
    -------
    ReadResult
        ``records`` for valid rows and ``errors`` for every problem, each a
        ``RowError(row, field, reason)``. Checks: the code is valid (:func:`gis.codes.normalise`)
        and unique in the file; the name is not empty and has no control characters; lon/lat
        are in range; the counts are non-negative integers up to :data:`COUNT_MAX`; agricultural population and households do not exceed the
        population; ``level`` and ``parent_code``, when given, agree with the code. Points keep
        their location; polygons keep their boundary as a MultiPolygon and their
        representative point as ``lon``/``lat``. CRSs other than WGS-84/CGCS2000 are
        reprojected.

    Raises
    ------
    RegionFileError
        Unknown suffix, or a file that cannot be read at all (see :func:`iter_region_file`).

    See Also
    --------
    iter_region_file : the same, chunk by chunk.
    """
    result = ReadResult()
    for chunk in iter_region_file(path, from_gcj02=from_gcj02, chunk_rows=chunk_rows,
                                  max_unzipped_bytes=max_unzipped_bytes):
        result.records.extend(chunk.records)
        result.errors.extend(chunk.errors)
        if progress is not None:
            progress(chunk.rows_done, chunk.rows_total)
    return result
