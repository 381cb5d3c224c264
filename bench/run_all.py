"""Run the whole ``bench/`` suite (``make bench``) and write ``bench/RESULTS.md``.

Each bench script runs as a subprocess with ``--json`` under its own timeout and an overall
budget (14 minutes, so the suite ends within 15 on the 2-core machine); the last JSON line of
its output is its figures. One table lists every figure with its baseline from the same run,
its target (from the capability issues) and whether the target is met. A script that is
missing, fails, times out or prints no JSON is a row marked ``FAILED`` with the reason; one
that never started because the budget ran out is marked ``NOT RUN``. Nothing is skipped
silently. A script in ``bench/`` that the list below does not describe runs as well, its
boolean figures judged as checks.

Run ``python bench/run_all.py`` (``--only national,levels`` runs a subset; ``--no-write``
leaves RESULTS.md alone; ``--json`` prints every outcome as one JSON line).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "RESULTS.md"
BUDGET_SECONDS = 14 * 60
MIN_START_SECONDS = 20  # a bench is not started with less than this left in the budget
PG_SERVER = os.environ.get("JIUZAI_BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")

# -- figures -----------------------------------------------------------------------------------


def get(figures: dict | None, path: str):
    """``figures["a"]["b"]`` for ``"a.b"``; ``None`` when any step is missing."""
    value: Any = figures
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


@dataclass(frozen=True)
class Target:
    """``op`` is ``<``, ``<=``, ``>=``, ``==`` (against ``value``) or ``<=baseline``."""

    op: str
    value: Any = None
    text: str = ""

    def met(self, value, baseline) -> bool | None:
        if value is None:
            return None
        if self.op == "<=baseline":
            return None if baseline is None else value <= baseline
        if self.op == "<":
            return value < self.value
        if self.op == "<=":
            return value <= self.value
        if self.op == ">=":
            return value >= self.value
        if self.op == "==":
            return value == self.value
        raise ValueError(f"unknown target operator {self.op!r}")


Getter = Callable[[dict], Any]


@dataclass(frozen=True)
class Figure:
    label: str
    value: str | Getter
    baseline: str | Getter | None = None
    target: Target | None = None
    fmt: Callable[[Any], str] = lambda v: _plain(v)
    baseline_label: str = ""
    #: What the target is checked on, when it is not ``value`` itself.
    judge: str | Getter | None = None
    #: The value as shown, when ``fmt(value)`` does not say enough (a timeout, a ratio).
    text: Getter | None = None

    def read(self, figures: dict, which: str | Getter | None):
        if which is None:
            return None
        return which(figures) if callable(which) else get(figures, which)


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...] = ()
    timeout: float = 300.0
    figures: tuple[Figure, ...] = ()
    what: str = ""
    #: When set, a throwaway PostgreSQL database (with PostGIS) is made for the run and its
    #: SQLAlchemy URL passed after this option, then dropped.
    pg_database_option: str | None = None


def _plain(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def seconds(v) -> str:
    return "—" if v is None else f"{v:,.3f} s" if v < 10 else f"{v:,.1f} s"


def ms(v) -> str:
    return "—" if v is None else f"{v:,.1f} ms" if v < 1000 else f"{v:,.0f} ms"


def mb(v) -> str:
    return "—" if v is None else f"{v:,.1f} MB"


def megabytes(v) -> str:
    return "—" if v is None else f"{v / 1e6:,.2f} MB"


def per_s(v) -> str:
    return "—" if v is None else f"{v:,.0f}/s"


def _both(*paths: str) -> Getter:
    def read(f):
        values = [get(f, p) for p in paths]
        return None if any(v is None for v in values) else all(bool(v) for v in values)
    return read


def _rollup_app(f):
    if get(f, "app_rollup_timed_out"):
        return None
    return get(f, "app_seconds")


def _rollup_ratio(f):
    """The app's time over the pandas baseline's, measured in the same run (issue 19: ≤ 3×)."""
    app, base = _rollup_app_judged(f), get(f, "baseline_seconds")
    return None if app is None or not base else round(app / base, 2)


def _rollup_app_judged(f):
    """A roll-up stopped at the budget missed the target: judge it as infinitely slow."""
    return float("inf") if get(f, "app_rollup_timed_out") else get(f, "app_seconds")


def _rollup_app_text(f) -> str:
    if get(f, "app_rollup_timed_out"):
        return f"timed out (> {get(f, 'budget_seconds'):g} s)"
    return seconds(get(f, "app_seconds"))


def _growth(f):
    growth = get(f, "app_rollup_scaling_seconds") or {}
    parts = [f"{int(k) // 1000}k: {'timed out' if v is None else seconds(v)}" for k, v in growth.items()]
    full = get(f, "app_rollup_seconds")
    parts.append(f"{get(f, 'reporting_villages') // 1000 if get(f, 'reporting_villages') else '?'}k: "
                 + ("timed out" if get(f, "app_rollup_timed_out") else seconds(full)))
    return "; ".join(parts)


#: Names ``bench/reports.py`` may give its latency and loss counts (the first one present is used).
_P50 = ("served.p50_ms", "served.latency_ms.p50", "served.latency.p50_ms")
_P99 = ("served.p99_ms", "served.latency_ms.p99", "served.latency.p99_ms")
_LOST = ("served.lost_or_duplicated", "served.lost_plus_duplicated", "served.retries.lost_or_duplicated")


def _run(database: str, *paths: str) -> Getter:
    """A figure of the ``runs`` entry for ``database`` in ``bench/reports.py``'s output."""
    def read(f):
        for run in get(f, "runs") or []:
            if isinstance(run, dict) and run.get("database") == database:
                for path in paths:
                    value = get(run, path)
                    if value is not None:
                        return value
                if "skipped" in run:
                    return None
        return None
    return read


def _slowest_endpoint(f):
    endpoints = get(f, "endpoints") or {}
    if not endpoints:
        return None
    label, e = max(endpoints.items(), key=lambda kv: kv[1].get("median_ms") or 0)
    return f"{label}: median {ms(e.get('median_ms'))}"


def _requests_ok(f):
    total, ok = get(f, "requests"), get(f, "requests_ok")
    return None if total is None else f"{ok}/{total}"


def _created_all(f):
    sqlite_tables = get(f, "sqlite.tables_from_create_all")
    pg_tables = get(f, "postgres.tables_from_create_all")
    if sqlite_tables is None and pg_tables is None:
        return None
    return max(len(sqlite_tables or []), len(pg_tables or []))


def _handout_cpu(f):
    cpu = get(f, "gunicorn.cpu_ms_per_handout")
    if not cpu:
        return None
    return (f"{cpu['total']:.1f} ms (gunicorn {cpu['gunicorn']:.1f}, PostgreSQL {cpu['postgresql']:.1f}, "
            f"phones {cpu['client']:.1f}): at most {cpu['bound_per_second']:.0f}/s with every core busy")


def _rss_ratio(f):
    value, base = get(f, "worker_peak_rss_mb"), get(f, "baseline_worker_peak_rss_mb")
    return None if not value or not base else f"×{value / base:.1f} the bare worker"


BENCHES: tuple[Bench, ...] = (
    Bench("national", "national.py", timeout=420, what="national dataset: build and load", figures=(
        Figure("regions loaded (31 provinces … 500,000 villages)", "postgres.rows.region"),
        Figure("depots / stock balances (8 items)", lambda f: None if get(f, "dataset") is None else
               f"{get(f, 'dataset.depots'):,} / {get(f, 'dataset.stock_balances'):,}"),
        Figure("SQLite load: executemany, one transaction", "sqlite.load_seconds", fmt=seconds),
        Figure("PostgreSQL load: COPY + index rebuild", "postgres.load_seconds",
               baseline="sqlite.load_seconds", baseline_label="SQLite", fmt=seconds),
        Figure("row counts in both databases match the dataset",
               _both("sqlite.counts_match", "postgres.counts_match"), target=Target("==", True, "yes")),
        Figure("tables not made by `db upgrade` (created with db.create_all)", _created_all,
               target=Target("==", 0, "0")),
    )),
    Bench("region_import", "region_import.py", timeout=300, pg_database_option="--database-url",
          what="500,000-village file imported through the CLI (PostgreSQL)", figures=(
        Figure("`flask regions import` of a 500,000-village CSV, whole process, progress bars drawn",
               "cli_seconds", baseline="baseline_copy_seconds", baseline_label="COPY of the same rows",
               target=Target("<", 30.0, "< 30 s"), fmt=seconds),
        Figure("villages in the database and a sample of 1,000 match the file",
               _both("cli_ok", "counts_match", "sample_matches"), target=Target("==", True, "yes")),
        Figure("both progress bars drawn up to 100 %", "progress_bar_shown", target=Target("==", True, "yes")),
    )),
    Bench("levels", "levels.py", timeout=90, what="response levels, every plan", figures=(
        Figure("every plan × 31 provinces + 2,850 counties (evaluate_table)", "all_plans_ms",
               baseline="baseline_np_select_ms", baseline_label="np.select, 2016 only",
               target=Target("<", 100.0, "< 100 ms"), fmt=ms),
        Figure("agrees with np.select and scalar evaluate", "agree", target=Target("==", True, "yes")),
    )),
    Bench("gis", "gis.py", timeout=240, what="national GIS", figures=(
        Figure("read + validate a 500,000-village file", "read_seconds", target=Target("<", 60.0, "< 60 s"),
               fmt=seconds),
        Figure("nearest stocked depot, 500,000 villages × 2,000 depots", "nearest_seconds",
               baseline="baseline_seconds", baseline_label="cKDTree on degrees",
               target=Target("<", 2.0, "< 2 s"), fmt=seconds),
        Figure("nearest-depot distance, max relative error", "ours_max_rel_error",
               baseline="baseline_max_rel_error", target=Target("<=", 0.005, "≤ 0.5 %"),
               fmt=lambda v: "—" if v is None else f"{v:.2e}"),
    )),
    Bench("exposure", "exposure.py", timeout=240, what="hazard-footprint exposure", figures=(
        Figure("exposure, 500,000 villages × a 10,000-vertex footprint", "exposure_seconds",
               baseline="sjoin_seconds", baseline_label="geopandas.sjoin, faster orientation",
               target=Target("<", 1.0, "< 1 s"), fmt=seconds),
        Figure("exposure time ÷ sjoin time", "ratio_to_sjoin", target=Target("<=", 1.5, "≤ 1.5×")),
        Figure("same villages as sjoin", "identical", target=Target("==", True, "yes")),
    )),
    Bench("allocate", "allocate.py", timeout=180, what="allocation", figures=(
        Figure("allocate 200 depots × 2,000 points × 8 items (LP)", "lp_seconds", baseline="greedy_seconds",
               baseline_label="greedy", target=Target("<", 10.0, "< 10 s"), fmt=seconds),
        Figure("distance × quantity of the plan", "lp_total_distance_quantity",
               baseline="greedy_total_distance_quantity", target=Target("<=baseline", text="≤ greedy")),
        Figure("unmet units", "lp_unmet", baseline="greedy_unmet", target=Target("<=baseline", text="≤ greedy")),
    )),
    Bench("allocation_page", "allocation_page.py", timeout=240, what="the allocation page", figures=(
        Figure("allocation page, 2,000 affected villages × 130 depots (median of 3)", "page_seconds",
               baseline="plan_seconds", baseline_label="plan alone (service call)",
               target=Target("<", 3.0, "< 3 s"), fmt=seconds),
        Figure("allocation page size", "page_bytes", fmt=megabytes),
    )),
    Bench("reports", "reports.py", timeout=420, what="report ingest through gunicorn", figures=(
        Figure("ingest on PostgreSQL, reports/s", _run("postgresql", "served.per_second"),
               baseline=_run("postgresql", "baseline_raw_insert.per_second"), baseline_label="raw INSERT",
               target=Target(">=", 600, "≥ 600/s"), fmt=per_s),
        Figure("ingest on PostgreSQL, p50 latency", _run("postgresql", *_P50), fmt=ms),
        Figure("ingest on PostgreSQL, p99 latency", _run("postgresql", *_P99),
               target=Target("<", 100.0, "< 100 ms"), fmt=ms),
        Figure("reports lost + duplicated under client retries (PostgreSQL)", _run("postgresql", *_LOST),
               target=Target("==", 0, "0")),
        Figure("ingest on SQLite, reports/s", _run("sqlite", "served.per_second"),
               baseline=_run("sqlite", "baseline_raw_insert.per_second"), baseline_label="raw INSERT", fmt=per_s),
        Figure("ingest on SQLite, p99 latency", _run("sqlite", *_P99), fmt=ms),
        Figure("roll-up of 30,000 village reports (PostgreSQL run)", _run("postgresql", "rollup.pure_s"),
               baseline=_run("postgresql", "rollup.baseline_plain_sum_s"), baseline_label="plain sum by prefix",
               target=Target("<", 0.5, "< 0.5 s"), fmt=seconds),
        Figure("the same with the database read (event_totals)", _run("postgresql", "rollup.with_database_s"),
               fmt=seconds),
    )),
    Bench("rollup_national", "rollup_national.py", args=("--budget", "60"), timeout=360,
          what="national event: roll-up and every plan", figures=(
        Figure("roll-up + every plan, 100,000 reporting villages (app)", _rollup_app,
               baseline="baseline_seconds", baseline_label="pandas groupby + np.select",
               target=Target("<", 0.5 * 100_000 / 30_000, "< 1.67 s"), fmt=seconds, text=_rollup_app_text,
               judge=_rollup_app_judged),
        Figure("app time ÷ pandas time", _rollup_ratio, target=Target("<=", 3.0, "≤ 3×")),
        Figure("app roll_up growth (10k, 30k, 100k villages)", _growth),
        Figure("province totals and national-2016 levels agree with the baseline", "agree",
               target=Target("==", True, "yes")),
    )),
    Bench("map", "map.py", args=("--runs", "1"), timeout=420, what="dashboard, 20,000 affected villages",
          figures=(
        Figure("dashboard render time", "dashboard_render_ms", baseline="naive_render_ms",
               baseline_label="naive folium", target=Target("<", 3000.0, "< 3 s"), fmt=ms),
        Figure("dashboard payload over the wire", "dashboard_payload_bytes", baseline="naive_payload_bytes",
               baseline_label="naive folium", target=Target("<", 5_000_000, "< 5 MB"), fmt=megabytes),
    )),
    Bench("dispatch_concurrency", "dispatch_concurrency.py", args=("--clients", "20", "--workers", "2"),
          timeout=300, pg_database_option="--database-url", what="concurrent dispatch approvals (PostgreSQL)",
          figures=(
        Figure("approvals/s with 20 concurrent clients through gunicorn", "approvals_per_second",
               baseline="baseline_approvals_per_second", baseline_label="one client, serial", fmt=per_s),
        Figure("a depot is never overdrawn", "never_overdrawn", target=Target("==", True, "yes")),
        Figure("concurrent clients", "concurrent.clients", target=Target(">=", 20, "≥ 20")),
    )),
    Bench("distribution", "distribution.py", timeout=300, pg_database_option="--database-url",
          what="hand-outs to 1,000 households through the API (PostgreSQL)", figures=(
        Figure("hand-outs/s through gunicorn, 4 phones at one point at once", "per_second",
               baseline="serial_per_second", baseline_label="one phone after another, in process",
               target=Target(">=", 100, "≥ 100/s"), fmt=per_s),
        Figure("CPU per hand-out through gunicorn", _handout_cpu),
        Figure("hand-outs/s through the service alone (no HTTP, no key)", "baseline_service_per_second", fmt=per_s),
        Figure("resent under the same keys: all replayed", "resend_all_replayed", target=Target("==", True, "yes")),
        Figure("nothing handed out twice, ledger consistent",
               lambda f: None if get(f, "nothing_doubled") is None else
               bool(get(f, "nothing_doubled") and get(f, "ledger_consistent")), target=Target("==", True, "yes")),
    )),
    Bench("worker_rss", "worker_rss.py", timeout=420, what="gunicorn worker memory", figures=(
        Figure("peak RSS of one gunicorn worker (national dataset)", "worker_peak_rss_mb",
               baseline="baseline_worker_peak_rss_mb", baseline_label="bare gunicorn, trivial app", fmt=mb),
        Figure("relative to the bare worker", _rss_ratio),
        Figure("requests answered 200", _requests_ok, target=Target("==", True, "all"), judge="all_ok"),
        Figure("slowest endpoint", _slowest_endpoint),
    )),
    Bench("geojson", "geojson.py", timeout=540, what="villages.geojson, 20,000 of 500,000 villages",
          figures=(
        Figure("villages.geojson after each new report (gunicorn, snapshot patched), median of 20",
               "incremental_median_ms", baseline="rebuilt_median_ms",
               baseline_label="snapshot rebuilt in full", target=Target("<", 300.0, "< 300 ms"), fmt=ms),
        Figure("villages.geojson after each new report, p95 of 20", "incremental_p95_ms",
               baseline="rebuilt_p95_ms", baseline_label="snapshot rebuilt in full, p95", fmt=ms),
        Figure("the map's request (figures=key, gzip) after each new report, median of 10",
               "incremental_map_median_ms", fmt=ms),
        Figure("after new reports: same bytes as a full rebuild", "incremental_identical_to_full",
               target=Target("==", True, "yes")),
        Figure("villages.geojson through gunicorn, no new report, median of 20 after the first", "median_ms",
               baseline="baseline_median_ms", baseline_label="plain SELECT + json.dumps", fmt=ms),
        Figure("the worker's first request (cold: snapshot read and encoded)", "cold_ms", fmt=ms),
        Figure("snapshot rebuilt for every request (test client), median", "rebuilt_median_ms",
               baseline="baseline_median_ms", baseline_label="plain SELECT + json.dumps", fmt=ms),
        Figure("same features as the baseline (codes, figures, severity, as_of)", "same_features",
               target=Target("==", True, "yes")),
        Figure("requests answered 200", _requests_ok, target=Target("==", True, "all"), judge="all_ok"),
    )),
)

#: Files in bench/ that are not bench scripts.
NOT_BENCHES = {"run_all.py"}


def discovered(benches=BENCHES, bench_dir: Path = BENCH) -> tuple[Bench, ...]:
    """Bench scripts in ``bench_dir`` that :data:`BENCHES` does not list: they run too, with a
    generic row (their figures are in the raw section, their boolean checks judged as targets)."""
    known = {b.script for b in benches} | NOT_BENCHES
    return tuple(Bench(path.stem, path.name, what=f"{path.stem} (not described in run_all.py)")
                 for path in sorted(bench_dir.glob("*.py")) if path.name not in known
                 and not path.name.startswith("_"))


def generic_figures(figures: dict) -> tuple[Figure, ...]:
    """For a bench without a description: every top-level boolean is a check that must hold."""
    rows = [Figure(f"check `{key}`", key, target=Target("==", True, "yes"))
            for key, value in figures.items() if isinstance(value, bool)]
    return tuple(rows) or (Figure("figures (see the raw section)", lambda f: f"{len(f)} keys"),)


# -- running -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    name: str
    status: str  # ok, failed, timeout, missing, not_run
    seconds: float = 0.0
    figures: dict | None = None
    error: str = ""
    command: list[str] = field(default_factory=list)


def last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _tail(text: str, lines: int = 3) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])[-400:]


def run_bench(bench: Bench, timeout: float, bench_dir: Path = BENCH) -> Outcome:
    script = bench_dir / bench.script
    command = [sys.executable, str(script), "--json", *bench.args]
    if not script.exists():
        return Outcome(bench.name, "missing", error=f"{script.relative_to(bench_dir.parent)} does not exist",
                       command=command)
    start = time.perf_counter()
    database = None
    if bench.pg_database_option:
        database = f"jiuzai_bench_{bench.name}"
        try:
            command += [bench.pg_database_option, _create_database(database)]
        except Exception as exc:  # the bench cannot run without it: a failure, reported
            return Outcome(bench.name, "failed", error=f"could not create the database {database}: {exc}",
                           command=command)
    try:
        process = subprocess.Popen(command, cwd=bench_dir.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(process)
            stdout, stderr = process.communicate()
            return Outcome(bench.name, "timeout", time.perf_counter() - start,
                           error=f"timed out after {timeout:.0f} s; {_tail(stderr)}", command=command)
        finally:
            _stop_group(process)
    finally:
        if database:
            _drop_database(database)
    elapsed = time.perf_counter() - start
    figures = last_json(stdout)
    if process.returncode != 0:
        return Outcome(bench.name, "failed", elapsed, figures,
                       error=f"exit {process.returncode}: {_tail(stderr or stdout)}", command=command)
    if figures is None:
        return Outcome(bench.name, "failed", elapsed, error=f"no JSON line in the output: {_tail(stdout)}",
                       command=command)
    return Outcome(bench.name, "ok", elapsed, figures, command=command)


def _create_database(name: str) -> str:
    """A fresh database ``name`` with PostGIS on the benchmark server; its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    except psycopg.Error:
        pass


def _stop_group(process: subprocess.Popen) -> None:
    """Stop what the bench started (gunicorn, chromium): its own process group, by its id."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_suite(benches=BENCHES, budget: float = BUDGET_SECONDS, bench_dir: Path = BENCH,
              echo: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)) -> list[Outcome]:
    started = time.monotonic()
    outcomes = []
    for bench in benches:
        left = budget - (time.monotonic() - started)
        if left < MIN_START_SECONDS:
            outcomes.append(Outcome(bench.name, "not_run", error=f"the {budget:.0f} s budget was spent"))
            echo(f"[run_all] {bench.name}: not run (budget spent)")
            continue
        timeout = min(bench.timeout, left)
        echo(f"[run_all] {bench.name}: running (timeout {timeout:.0f} s)")
        outcome = run_bench(bench, timeout, bench_dir)
        echo(f"[run_all] {bench.name}: {outcome.status} in {outcome.seconds:.1f} s"
             + (f" — {outcome.error}" if outcome.error else ""))
        outcomes.append(outcome)
    return outcomes


# -- the table ---------------------------------------------------------------------------------

STATUS_WORDS = {"failed": "FAILED", "timeout": "FAILED (timeout)", "missing": "FAILED (missing)",
                "not_run": "NOT RUN"}


def build_rows(outcomes: list[Outcome], benches=BENCHES) -> list[dict]:
    """One row per figure: ``bench``, ``figure``, ``value``, ``baseline``, ``target``, ``met``
    (``yes``, ``NO``, ``—`` when the figure has no target, or the failure of the bench)."""
    specs = {b.name: b for b in benches}
    rows = []
    for outcome in outcomes:
        bench = specs.get(outcome.name, Bench(outcome.name, f"{outcome.name}.py"))
        if outcome.status != "ok":
            rows.append({"bench": outcome.name, "figure": bench.what or outcome.name,
                         "value": STATUS_WORDS.get(outcome.status, outcome.status.upper()),
                         "baseline": "—", "target": "—", "met": STATUS_WORDS.get(outcome.status, "FAILED"),
                         "note": outcome.error})
            continue
        figures = outcome.figures or {}
        for spec in bench.figures or generic_figures(figures):
            value = spec.read(figures, spec.value)
            baseline = spec.read(figures, spec.baseline)
            judged = value if spec.judge is None else spec.read(figures, spec.judge)
            if spec.target is None:
                met = "—"
            else:
                verdict = spec.target.met(judged, baseline)
                met = "n/a (no figure)" if verdict is None else ("yes" if verdict else "NO")
            text = spec.text(figures) if spec.text else spec.fmt(value)
            base_text = "—" if baseline is None else spec.fmt(baseline)
            if spec.baseline_label and baseline is not None:
                base_text += f" ({spec.baseline_label})"
            rows.append({"bench": outcome.name, "figure": spec.label, "value": text, "baseline": base_text,
                         "target": spec.target.text if spec.target else "—", "met": met, "note": ""})
    return rows


def render_table(rows: list[dict]) -> str:
    header = "| bench | figure | value | baseline (same run) | target | met? |\n|---|---|---|---|---|---|\n"
    lines = []
    for r in rows:
        cells = [r["bench"], r["figure"], r["value"], r["baseline"], r["target"], r["met"]]
        if r.get("note"):
            cells[1] += f" — {r['note']}"
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return header + "\n".join(lines) + "\n"


def render_console(rows: list[dict]) -> str:
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) if rows else len(k)
              for k in ("bench", "figure", "value", "baseline", "target", "met")}
    widths["figure"] = min(widths["figure"], 64)
    out = []
    head = ["bench", "figure", "value", "baseline", "target", "met"]
    out.append("  ".join(h.ljust(widths[h]) for h in head))
    out.append("  ".join("-" * widths[h] for h in head))
    for r in rows:
        out.append("  ".join(str(r[h])[:widths[h]].ljust(widths[h]) for h in head))
        if r.get("note"):
            out.append("    " + r["note"])
    return "\n".join(out)


# -- the machine -------------------------------------------------------------------------------

def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        import psycopg

        with psycopg.connect(PG_SERVER, connect_timeout=5) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            info["postgis"] = conn.execute(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'").fetchone()[0]
    except Exception as exc:  # reported, never fatal: the benches say what failed
        info["postgresql"] = f"unreachable ({type(exc).__name__})"
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10)
        info["commit"] = done.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None
    try:
        info["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    return info


def render_results(outcomes: list[Outcome], rows: list[dict], info: dict, started: datetime,
                   total_seconds: float, benches=BENCHES) -> str:
    specs = {b.name: b for b in benches}
    local = started.astimezone(ZoneInfo("Asia/Shanghai"))
    missed = [r for r in rows if r["met"] not in ("yes", "—")]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (`bench/run_all.py`); do not edit by hand. Every baseline was "
        "measured in the same run as its figure. Targets come from the capability issues.",
        "",
        f"- Date: {local:%Y-%m-%d %H:%M} (Asia/Shanghai), {started:%Y-%m-%d %H:%M} UTC; "
        f"the suite took {total_seconds / 60:.1f} min.",
        f"- Machine: {info.get('nproc')} CPUs ({info.get('cpu', 'unknown CPU')}), "
        f"{info.get('memory_gb', '?')} GB memory; {info.get('platform')}.",
        f"- Software: Python {info.get('python')}, PostgreSQL {info.get('postgresql')}"
        f" with PostGIS {info.get('postgis', '?')}, SQLite {info.get('sqlite')}; commit {info.get('commit') or '?'}"
        " (plus uncommitted work in the tree, if any).",
        f"- Load average when the suite ended: {info.get('load_average', '?')} "
        "(other work on the machine slows every figure).",
        f"- Targets missed or not measured: {len(missed)} of {sum(1 for r in rows if r['met'] != '—')}.",
        "",
        render_table(rows),
        "## Benches",
        "",
        "| bench | status | seconds | command |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        command = " ".join([".venv/bin/python", *[Path(c).relative_to(ROOT).as_posix() if c.startswith(str(ROOT))
                                                   else c for c in o.command[1:]]]) if o.command else "—"
        lines.append(f"| {o.name} | {STATUS_WORDS.get(o.status, o.status)} | {o.seconds:.1f} | `{command}` |")
    lines += [
        "",
        "## How to reproduce",
        "",
        "```sh",
        "make bench                                  # the whole suite; rewrites this file",
        ".venv/bin/python bench/run_all.py --only rollup_national,worker_rss --no-write",
        ".venv/bin/python bench/national.py          # one bench, readable output (add --json for figures)",
        "```",
        "",
        "PostgreSQL with PostGIS must listen on 127.0.0.1:5432 (trust auth for `postgres`); "
        "`bench/national.py` (re)creates the throwaway database `jiuzai_bench_national`, which "
        "`bench/worker_rss.py` then serves. The national dataset is cached under `bench/out/`. "
        "See `bench/README.md` for what each bench measures.",
        "",
        "## Raw figures",
        "",
    ]
    for o in outcomes:
        spec = specs.get(o.name)
        lines.append(f"<details><summary>{o.name}: {spec.what if spec else ''}</summary>")
        lines.append("")
        lines.append("```json")
        lines.append(json.dumps(o.figures, ensure_ascii=False, indent=1, sort_keys=True, default=str)
                     if o.figures is not None else json.dumps({"status": o.status, "error": o.error},
                                                              ensure_ascii=False))
        lines.append("```")
        lines.append("</details>")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated bench names")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS, help="seconds for the whole suite")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument("--json", action="store_true", help="print every outcome as one JSON line")
    args = parser.parse_args(argv)
    benches = BENCHES + discovered()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = set(wanted) - {b.name for b in benches}
        if unknown:
            parser.error(f"unknown bench: {', '.join(sorted(unknown))}")
        benches = tuple(b for b in benches if b.name in wanted)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    outcomes = run_suite(benches, args.budget)
    total = time.perf_counter() - t0
    rows = build_rows(outcomes, benches)
    print(render_console(rows))
    print(f"\nsuite: {total / 60:.1f} min")
    if not args.no_write:
        RESULTS.write_text(render_results(outcomes, rows, machine(), started, total, benches), encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    if args.json:
        print(json.dumps([o.__dict__ for o in outcomes], ensure_ascii=False, default=str))
    return 0 if all(o.status == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
