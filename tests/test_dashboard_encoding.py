"""villages.geojson is written column by column from feature templates (app/dashboard/encoding.py,
service/villages.py): the bytes must be those of json.dumps over the collection as Python objects,
as the layer was built before, for every kind of value a village can carry."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import gis
from app.dashboard import encoding
from app.dashboard.service import KEY_FIGURES, Affected
from app.dashboard.service.common import number, numbers, points, severity_props
from app.dashboard.service.villages import _villages_collection
from app.reports import FIELDS


def _reference(affected: Affected, figures: str) -> bytes:
    """The collection as dictionaries, serialised by ``encode``: the layer as it was first built."""
    frame = affected.frame
    columns = (frame["code"].tolist(), frame["name"].tolist(), frame["township"].tolist(),
               frame["county"].tolist(), frame["severity"].tolist(), points(frame["lon"], frame["lat"]))
    if figures == "key":
        values = zip(*(numbers(frame[f]) for f in KEY_FIGURES))
        features = [
            {"type": "Feature", "id": code, "geometry": point,
             "properties": {"code": code, "name": name, "township": township, "county": county,
                            "severity": severity, "figures": {f: v for f, v in zip(KEY_FIGURES, row) if v}}}
            for code, name, township, county, severity, point, row in zip(*columns, values)]
    else:
        values = zip(*(numbers(frame[f]) for f in FIELDS))
        legend = {k: severity_props(k) for k in gis.SEVERITY_LABELS}
        features = [
            {"type": "Feature", "id": code, "geometry": point,
             "properties": {"code": code, "name": name, "township": township, "county": county,
                            "population": population, "as_of": as_of, **legend[severity],
                            "figures": dict(zip(FIELDS, row))}}
            for code, name, township, county, severity, point, population, as_of, row in zip(
                *columns, numbers(frame["population"]), frame["as_of"].tolist(), values)]
    body = {"type": "FeatureCollection", "event_id": affected.event.id, "figures": figures,
            "severity_legend": gis.severity_legend(), "features": features}
    return encoding.encode(body).payload


def _frame(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = ['示例"村', "back\\slash", "tab\tline\nbreak", "百分之%s%%", "emoji 🌀", "\x01ctl", "普通村"]
    frame = pd.DataFrame({
        "code": [f"1401050{i:05d}" for i in range(n)],
        "name": [names[i % len(names)] for i in range(n)],
        "township": ["示例镇" if i % 3 else "" for i in range(n)],
        "county": ["小店区" if i % 4 else "" for i in range(n)],
        "lon": rng.uniform(73, 135, n), "lat": rng.uniform(18, 53, n),
        "population": rng.integers(0, 5000, n).astype(np.int64),
        "households": rng.integers(0, 1500, n).astype(np.int64),
        "as_of": [f"2024-09-06T08:{i % 60:02d}:00+00:00" for i in range(n)],
    })
    frame.loc[1, "lon"] = np.nan  # no location: geometry null
    frame.loc[2, ["lon", "lat"]] = [112.123456749, -0.0000001]  # rounding at the 6th decimal, -0.0
    for k, field in enumerate(FIELDS):
        if k % 3 == 0:  # counts stored as ints
            frame[field] = rng.integers(0, 50, n).astype(np.int64) * (rng.random(n) < 0.6)
        elif k % 3 == 1:  # whole floats (a report that left the figure out: NaN filled with 0.0)
            frame[field] = np.floor(rng.uniform(0, 900, n)) * (rng.random(n) < 0.6)
        else:  # hectares and 万元: two decimals, some whole, some zero, a large one
            values = np.round(rng.uniform(0, 1000, n), 2) * (rng.random(n) < 0.6)
            values[::5] = np.floor(values[::5])
            values[3] = 1e17
            values[4] = -0.0
            frame[field] = values
    frame["severity"] = gis.severity_classes(frame).to_numpy()
    return frame


@pytest.mark.parametrize("figures", ["all", "key"])
def test_template_bytes_equal_json_dumps_of_the_objects(figures):
    affected = Affected(SimpleNamespace(id=42), _frame(400))
    made = _villages_collection(affected, figures)
    assert made.payload == _reference(affected, figures)
    # the ETag is a hash of the content (of each feature's hash): the same for the same bytes,
    # another when one village's figures change
    assert made.etag == _villages_collection(Affected(SimpleNamespace(id=42), _frame(400)), figures).etag
    changed = _frame(400)
    changed.loc[7, "deaths"] += 1
    assert _villages_collection(Affected(SimpleNamespace(id=42), changed), figures).etag != made.etag


@pytest.mark.parametrize("figures", ["all", "key"])
def test_an_event_without_villages_is_an_empty_collection(figures):
    affected = Affected(SimpleNamespace(id=3), _frame(5).iloc[:0])
    assert _villages_collection(affected, figures).payload == _reference(affected, figures)
    assert json.loads(_villages_collection(affected, figures).payload)["features"] == []


def test_number_columns_as_number_writes_them():
    values = [0.0, -0.0, 3.0, 2.5, 0.1, 1e17, 1e-7, 123456.78, float("nan"), float("inf")]
    assert encoding.json_numbers(np.array(values)) == [json.dumps(number(v)) for v in values]
    finite = [v for v in values if np.isfinite(v)]
    assert encoding.json_numbers(np.array(finite)) == [json.dumps(number(v)) for v in finite]
    assert encoding.json_numbers(np.array([0, -3, 2 ** 40])) == ["0", "-3", str(2 ** 40)]
    assert encoding.json_numbers(pd.Series([1, None, 2.5], dtype=object)) == ["1", "null", "2.5"]
    assert encoding.json_strings(["a\"b", "村", None]) == [json.dumps("a\"b"), '"村"', "null"]


def test_join_rows_lays_pieces_out_row_by_row():
    assert encoding.join_rows(["<", ["a", "b", "c"], "|", ["1", "2", "3"], ">"], 3) == "<a|1>,<b|2>,<c|3>"
    assert encoding.join_rows(["x", ["1"]], 1, separator=";") == "x1"
    assert encoding.join_rows(["x", []], 0) == ""
