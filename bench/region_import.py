"""Importing a 500,000-village file into PostgreSQL through the CLI (issue 19, point 3).

What is measured: the whole process ``flask --app wsgi regions import villages.csv`` run as a
subprocess (interpreter start, app start, reading and validating every row, the parent checks,
the writes, the commit), with ``DATABASE_URL`` pointing at PostgreSQL and its progress bars
drawn on a pseudo-terminal, as an operator sees them. Target: under 30 s.

The file holds the 500,000 synthetic villages of :func:`national.build_dataset` (the cached
national dataset) as a UTF-8 CSV with the columns ``code, name, parent_code, level, lon, lat,
population, agricultural_population, households`` (coordinates to 6 decimals, about 0.1 m).
CSV because that is what a province sends for villages: the village list (村级行政区划及人口)
comes out of the civil-affairs and statistics registers as a spreadsheet, villages have a
point and no boundary, and a GeoPackage of 500,000 points would only wrap the same columns.
Before the import the database holds the levels above (31 provinces, the real prefectures and
counties with their boundaries, 40,000 townships), copied in untimed, so every village's parent
exists, as it does when a province sends its villages to a running system.

Baseline, measured in the same run on the same database: ``COPY region (…) FROM STDIN`` of the
same 500,000 rows (the values the import writes) through psycopg 3, indexes in place, inside a
transaction that is rolled back afterwards (then ``VACUUM ANALYZE region``), so the import
starts on the same table.

Checks afterwards: the number of villages, and 1,000 villages drawn at random compared field by
field with the file; the progress bars reached 100 %. Optional ``--reimport`` times importing
the same file a second time (every row an update: the upsert path).

Run ``python bench/region_import.py --database-url postgresql+psycopg://…/empty_db`` (an empty
database with PostGIS; without the option the throwaway database ``jiuzai_bench_region_import``
is made and dropped), ``--json`` for one JSON line of figures.
"""
from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path and its gis.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("_bench_national", ROOT / "bench" / "national.py")
national = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = national
_spec.loader.exec_module(national)

OUT = ROOT / "bench" / "out"
PG_DATABASE = "jiuzai_bench_region_import"
CSV_COLUMNS = ["code", "name", "parent_code", "level", "lon", "lat", "population", "agricultural_population",
               "households"]
REGION_COLUMNS = ("code", "name", "level", "parent_code", "population", "agricultural_population",
                  "households", "lon", "lat", "boundary", "synthetic", "source")
SAMPLE = 1_000
FLASK = ROOT / ".venv" / "bin" / "flask"


def write_file(villages: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Write the villages as the CSV a province sends; return the frame as written (rounded)."""
    frame = villages[CSV_COLUMNS].copy()
    frame["lon"] = frame["lon"].round(6)
    frame["lat"] = frame["lat"].round(6)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6f", encoding="utf-8")
    return frame.reset_index(drop=True)


def _copy(conn, rows, columns=REGION_COLUMNS) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY region ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def load_parents(url: str, dataset) -> int:
    """Copy every region above the villages (with boundaries) into the database; untimed setup."""
    import psycopg

    table = national.table_rows(dataset, "postgresql")[0]
    level = table.values[table.columns.index("level")]
    rows = [row for row, lv in zip(table.rows(), level) if lv != "village"]
    with psycopg.connect(national._libpq(url), autocommit=True) as conn:
        with conn.transaction():
            _copy(conn, rows, table.columns)
        conn.execute("ANALYZE region")
    return len(rows)


def village_rows(frame: pd.DataFrame, source: str) -> list[tuple]:
    """The rows the import writes for the file, in ``REGION_COLUMNS`` order."""
    n = len(frame)
    return list(zip(frame["code"].tolist(), frame["name"].tolist(), frame["level"].tolist(),
                    frame["parent_code"].tolist(), frame["population"].astype(np.int64).tolist(),
                    frame["agricultural_population"].astype(np.int64).tolist(),
                    frame["households"].astype(np.int64).tolist(), frame["lon"].tolist(), frame["lat"].tolist(),
                    [None] * n, [False] * n, [source[-200:]] * n))


def baseline_copy(url: str, rows: list[tuple]) -> float:
    """Seconds to COPY ``rows`` into ``region`` (indexes in place); rolled back afterwards."""
    import psycopg

    with psycopg.connect(national._libpq(url)) as conn:
        start = time.perf_counter()
        _copy(conn, rows)
        seconds = time.perf_counter() - start
        conn.rollback()
    with psycopg.connect(national._libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE region")
    return seconds


def run_cli(url: str, path: Path, timeout: float = 600) -> dict:
    """Run ``flask --app wsgi regions import path`` on a pseudo-terminal (so the progress bars
    draw as an operator sees them); the wall time of the whole process and what it printed."""
    env = {**os.environ, "DATABASE_URL": url, "JIUZAI_SECRET_KEY": national.BENCH_SECRET_KEY,
           "COLUMNS": "100", "PYTHONUNBUFFERED": "1"}
    master, slave = pty.openpty()
    start = time.perf_counter()
    process = subprocess.Popen([str(FLASK), "--app", "wsgi", "regions", "import", str(path)], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    output = bytearray()
    deadline = start + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.perf_counter()))
            if not ready:
                process.kill()
                break
            try:
                block = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not block:
                break
            output += block
        returncode = process.wait()
    finally:
        os.close(master)
    seconds = time.perf_counter() - start
    text = output.decode("utf-8", "replace")
    return {"seconds": seconds, "returncode": returncode, "output": text}


def progress_figures(text: str) -> dict:
    """What the progress bars showed: the percentages drawn per bar."""
    frames = re.split(r"[\r\n]+", text)
    bars: dict[str, list[int]] = {}
    for frame in frames:
        match = re.search(r"(读取文件|导入区划)\s.*?(\d+)%", frame)
        if match:
            bars.setdefault(match.group(1), []).append(int(match.group(2)))
    return {label: {"updates": len(values), "first_percent": values[0], "last_percent": values[-1]}
            for label, values in bars.items()}


def check_rows(url: str, frame: pd.DataFrame, seed: int, parents: int) -> dict:
    import psycopg

    rng = np.random.default_rng(seed)
    sample = frame.iloc[np.sort(rng.choice(len(frame), size=min(SAMPLE, len(frame)), replace=False))]
    with psycopg.connect(national._libpq(url)) as conn:
        villages = conn.execute("SELECT count(*) FROM region WHERE level = 'village'").fetchone()[0]
        regions = conn.execute("SELECT count(*) FROM region").fetchone()[0]
        found = conn.execute(
            "SELECT code, name, parent_code, level, lon, lat, population, agricultural_population, households "
            "FROM region WHERE code = ANY(%s)", (sample["code"].tolist(),)).fetchall()
    got = {row[0]: row for row in found}
    mismatched = []
    for want in sample.itertuples(index=False):
        row = got.get(want.code)
        expected = (want.code, want.name, want.parent_code, want.level, want.lon, want.lat, int(want.population),
                    int(want.agricultural_population), int(want.households))
        if row is None or tuple(row) != expected:
            mismatched.append({"code": want.code, "expected": expected, "found": row})
    return {"villages_in_database": villages, "regions_in_database": regions,
            "counts_match": villages == len(frame) and regions == len(frame) + parents,
            "sample": len(sample), "sample_mismatches": len(mismatched),
            "sample_mismatch_examples": mismatched[:3], "sample_matches": not mismatched}


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(url: str, *, n_villages: int = national.N_VILLAGES, seed: int = national.SEED,
        reimport: bool = False) -> dict:
    figures: dict = {"bench": "region_import", "format": "CSV (UTF-8)", "load_average_start": _loadavg()}
    dataset, built = national.build_dataset(seed, n_villages=n_villages)
    figures["dataset_cache_hit"] = built["cache_hit"]
    path = OUT / f"region_import_villages_{len(dataset.villages)}.csv"
    t0 = time.perf_counter()
    frame = write_file(dataset.villages, path)
    figures.update(villages=len(frame), file=str(path.relative_to(ROOT)), file_bytes=path.stat().st_size,
                   write_file_seconds=round(time.perf_counter() - t0, 3))

    schema = national.prepare_schema(url)
    figures["schema_upgrade_ok"] = schema["upgrade_ok"]
    t0 = time.perf_counter()
    parents = load_parents(url, dataset)
    figures.update(parent_regions=parents, load_parents_seconds=round(time.perf_counter() - t0, 3))

    figures["load_average_baseline"] = _loadavg()
    figures["baseline_copy_seconds"] = round(baseline_copy(url, village_rows(frame, str(path))), 3)

    figures["load_average_import"] = _loadavg()
    done = run_cli(url, path)
    figures["cli_seconds"] = round(done["seconds"], 3)
    figures["cli_exit_code"] = done["returncode"]
    figures["cli_ok"] = done["returncode"] == 0 and f"已导入 {len(frame)} 个区划" in done["output"]
    figures["cli_output_tail"] = done["output"].replace("\r", "\n").strip().splitlines()[-3:]
    bars = progress_figures(done["output"])
    figures["progress"] = bars
    figures["progress_bar_shown"] = (set(bars) == {"读取文件", "导入区划"}
                                     and all(b["last_percent"] == 100 and b["updates"] >= 3 for b in bars.values()))
    figures["ratio_to_copy"] = round(figures["cli_seconds"] / max(figures["baseline_copy_seconds"], 1e-9), 1)
    figures.update(check_rows(url, frame, seed, parents))
    if reimport:
        again = run_cli(url, path)
        figures["reimport_seconds"] = round(again["seconds"], 3)
        figures["reimport_ok"] = again["returncode"] == 0
        figures["reimport_counts"] = check_rows(url, frame, seed + 1, parents)["counts_match"]
    figures["load_average_end"] = _loadavg()
    figures["meets_target"] = bool(figures["cli_ok"] and figures["cli_seconds"] < 30)
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--database-url", default=None,
                        help="an empty PostgreSQL database with PostGIS (default: a throwaway one, dropped after)")
    parser.add_argument("--villages", type=int, default=national.N_VILLAGES)
    parser.add_argument("--seed", type=int, default=national.SEED)
    parser.add_argument("--reimport", action="store_true", help="also time importing the same file again")
    args = parser.parse_args(argv)
    url = args.database_url
    made = url is None
    if made:
        url = national.create_database(national.PG_SERVER, PG_DATABASE)
    try:
        figures = run(url, n_villages=args.villages, seed=args.seed, reimport=args.reimport)
    finally:
        if made:
            national.drop_database(national.PG_SERVER, PG_DATABASE)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str))
        return figures
    f = figures
    print(f"region import through the CLI: {f['villages']:,} villages in {f['file']} "
          f"({f['file_bytes'] / 1e6:.1f} MB, {f['format']}), {f['parent_regions']:,} regions above them loaded first")
    print(f"  flask regions import: {f['cli_seconds']:.2f} s (exit {f['cli_exit_code']}; target < 30 s)")
    print(f"  baseline COPY of the same rows: {f['baseline_copy_seconds']:.2f} s  (import ÷ COPY = ×{f['ratio_to_copy']})")
    if "reimport_seconds" in f:
        print(f"  re-import of the same file (every row updated): {f['reimport_seconds']:.2f} s")
    print(f"  progress bars: " + "; ".join(f"{k}: {v['updates']} draws, up to {v['last_percent']} %"
                                          for k, v in f["progress"].items()))
    print(f"  rows: {f['villages_in_database']:,} villages in the database "
          f"({'match' if f['counts_match'] else 'MISMATCH'}); sample of {f['sample']:,}: "
          f"{f['sample_mismatches']} mismatches")
    print(f"  load average: start {f['load_average_start']}, import {f['load_average_import']}, "
          f"end {f['load_average_end']}")
    print("  " + " | ".join(f["cli_output_tail"]))
    return figures


if __name__ == "__main__":
    main()
