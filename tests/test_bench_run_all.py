"""``bench/run_all.py``: every bench ends as a row of the table, and a bench that is missing,
fails, times out, prints no JSON or never starts is marked as such, never dropped."""
from __future__ import annotations

import json
import textwrap

import pytest

from tests.bench_scripts import load

run_all = load("run_all")
Bench, Figure, Target = run_all.Bench, run_all.Figure, run_all.Target


@pytest.fixture
def bench_dir(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    scripts = {
        "good.py": 'import json; print("warming up"); print(json.dumps({"fast_ms": 12.5, "base_ms": 40.0, '
                   '"agree": True, "nested": {"rate": 250}}))',
        "crash.py": 'import sys; print("half a line"); sys.exit("boom: the database is gone")',
        "silent.py": 'print("no figures here")',
        "slow.py": 'import time; time.sleep(60)',
    }
    for name, text in scripts.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


SPECS = (
    Bench("good", "good.py", what="a working bench", figures=(
        Figure("fast thing", "fast_ms", baseline="base_ms", baseline_label="naive",
               target=Target("<", 20.0, "< 20 ms"), fmt=run_all.ms),
        Figure("rate", "nested.rate", target=Target(">=", 300, "≥ 300/s")),
        Figure("agrees", "agree", target=Target("==", True, "yes")),
        Figure("a figure the script does not print", "absent", target=Target("<", 1.0, "< 1")),
        Figure("info only", "fast_ms"),
    )),
    Bench("crash", "crash.py", what="a failing bench"),
    Bench("silent", "silent.py", what="a bench without JSON"),
    Bench("gone", "gone.py", what="a missing bench"),
    Bench("slow", "slow.py", timeout=1.0, what="a bench that overruns"),
)


def test_suite_reports_every_bench_and_marks_failures(bench_dir):
    outcomes = run_all.run_suite(SPECS, budget=120, bench_dir=bench_dir, echo=lambda _m: None)
    assert [o.name for o in outcomes] == ["good", "crash", "silent", "gone", "slow"]
    assert [o.status for o in outcomes] == ["ok", "failed", "failed", "missing", "timeout"]
    assert "boom: the database is gone" in outcomes[1].error
    assert "no JSON" in outcomes[2].error

    rows = run_all.build_rows(outcomes, SPECS)
    by_figure = {(r["bench"], r["figure"]): r for r in rows}
    good = by_figure[("good", "fast thing")]
    assert (good["value"], good["baseline"], good["target"], good["met"]) == \
        ("12.5 ms", "40.0 ms (naive)", "< 20 ms", "yes")
    assert by_figure[("good", "rate")]["met"] == "NO"  # 250 < 300
    assert by_figure[("good", "agrees")]["met"] == "yes"
    assert by_figure[("good", "a figure the script does not print")]["met"] == "n/a (no figure)"
    assert by_figure[("good", "info only")]["met"] == "—"
    assert by_figure[("crash", "a failing bench")]["met"] == "FAILED"
    assert by_figure[("silent", "a bench without JSON")]["met"] == "FAILED"
    assert by_figure[("gone", "a missing bench")]["met"] == "FAILED (missing)"
    assert by_figure[("slow", "a bench that overruns")]["met"] == "FAILED (timeout)"

    table = run_all.render_table(rows)
    assert table.count("\n") == len(rows) + 2
    assert "FAILED (missing)" in table and "boom: the database is gone" in table


def test_a_spent_budget_marks_the_rest_not_run(bench_dir):
    outcomes = run_all.run_suite(SPECS[:2], budget=0, bench_dir=bench_dir, echo=lambda _m: None)
    assert [o.status for o in outcomes] == ["not_run", "not_run"]
    rows = run_all.build_rows(outcomes, SPECS)
    assert [r["met"] for r in rows] == ["NOT RUN", "NOT RUN"]


def test_results_markdown_names_the_machine_and_every_bench(bench_dir):
    from datetime import datetime, timezone

    outcomes = run_all.run_suite(SPECS[:2], budget=60, bench_dir=bench_dir, echo=lambda _m: None)
    rows = run_all.build_rows(outcomes, SPECS)
    info = {"nproc": 2, "cpu": "Test CPU", "memory_gb": 3.5, "python": "3.11.2", "postgresql": "15.2",
            "postgis": "3.3.2", "sqlite": "3.40.1", "platform": "Linux", "commit": "abc1234"}
    text = run_all.render_results(outcomes, rows, info, datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc), 75.0,
                                  SPECS)
    assert "2026-01-02 11:04 (Asia/Shanghai)" in text and "1.2 min" in text
    assert "2 CPUs (Test CPU), 3.5 GB memory" in text and "PostgreSQL 15.2" in text
    assert "| crash | FAILED |" in text and "make bench" in text
    assert json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])["fast_ms"] == 12.5


def test_every_bench_of_the_suite_is_listed_with_a_script():
    names = [b.name for b in run_all.BENCHES]
    assert names == ["national", "region_import", "levels", "gis", "exposure", "allocate", "allocation_page", "reports",
                     "rollup_national", "map", "dispatch_concurrency", "distribution", "worker_rss", "geojson"]
    for bench in run_all.BENCHES:
        assert bench.figures, bench.name
    assert run_all.BUDGET_SECONDS < 15 * 60


def test_scripts_the_list_does_not_describe_still_run(bench_dir):
    extra = run_all.discovered(SPECS, bench_dir)
    assert [b.script for b in extra] == []  # every script of the folder is in SPECS but gone.py
    (bench_dir / "newcomer.py").write_text('import json; print(json.dumps({"never_overdrawn": False, "n": 3}))')
    (bench_dir / "run_all.py").write_text("raise SystemExit('the runner is not a bench')")
    extra = run_all.discovered(SPECS, bench_dir)
    assert [b.name for b in extra] == ["newcomer"]
    outcomes = run_all.run_suite(extra, budget=60, bench_dir=bench_dir, echo=lambda _m: None)
    rows = run_all.build_rows(outcomes, extra)
    assert [(r["figure"], r["value"], r["met"]) for r in rows] == [("check `never_overdrawn`", "no", "NO")]


def test_last_json_takes_the_last_object_line():
    assert run_all.last_json('{"a": 1}\nnoise\n{"b": 2}\n') == {"b": 2}
    assert run_all.last_json("[1, 2]\n{broken\n") is None
