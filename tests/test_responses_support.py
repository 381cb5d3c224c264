"""Helpers shared by the response tests (events and reports through the API, plans loaded), and
tests of the adjacent-province table that linkage relies on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.responses import adjacency

#: Base figures that satisfy the consistency rules of domain.md §3 (affected ≥ the others).
AFFECTED = 1_000_000


def figures(**values) -> dict:
    out = {"affected_population": AFFECTED}
    out.update(values)
    return out


def load_plans(app) -> None:
    from app.responses.demo import load_plans as load

    with app.app_context():
        load(lambda _line: None)


def create_event(client, headers, region_codes, name="2024年7月山西暴雨洪涝", hazard="flood") -> int:
    started = (datetime.now(timezone.utc) - timedelta(hours=6)).isoformat()
    response = client.post("/api/v1/events", headers=headers, json={
        "name": name, "hazard": hazard, "started_at": started, "region_codes": list(region_codes)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


class Reporter:
    """Files reports through ``POST /events/{id}/reports``: the first report of a region is
    ``initial``, later ones ``update`` (with a note, which a sharp jump needs)."""

    def __init__(self, client, headers, event_id: int):
        self.client, self.headers, self.event_id = client, headers, event_id
        self.filed: dict[str, int] = {}
        self.minutes = 300

    def __call__(self, region_code: str, **values) -> dict:
        kind = "update" if region_code in self.filed else "initial"
        self.minutes -= 1
        as_of = (datetime.now(timezone.utc) - timedelta(minutes=self.minutes)).isoformat()
        response = self.client.post(
            f"/api/v1/events/{self.event_id}/reports", headers=self.headers,
            json={"region_code": region_code, "kind": kind, "as_of": as_of,
                  "figures": figures(**values), "note": "测试报告：数字按核实情况更新"})
        assert response.status_code == 201, response.get_json()
        self.filed[region_code] = self.filed.get(region_code, 0) + 1
        return response.get_json()


def by_plan(assessment: dict) -> dict[tuple[str, str], dict]:
    return {(e["plan_id"], e["region_code"]): e for e in assessment["evaluations"]}


# --- The adjacency table ---------------------------------------------------------------------

def test_table_covers_the_31_provinces_symmetrically():
    assert len(adjacency.ADJACENT) == 31
    for code, neighbours in adjacency.ADJACENT.items():
        assert neighbours, f"{code} has no neighbour"
        assert code not in neighbours
        for other in neighbours:
            assert code in adjacency.ADJACENT[other]


@pytest.mark.parametrize("a, b, expected", [
    ("140000", "130000", True),   # 山西–河北
    ("140000", "610000", True),   # 山西–陕西
    ("140000", "150000", True),   # 山西–内蒙古
    ("140000", "410000", True),   # 山西–河南
    ("140000", "370000", False),  # 山西–山东: 河北 and 河南 lie between
    ("140000", "650000", False),  # 山西–新疆
    ("650000", "540000", True),   # 新疆–西藏
    ("440000", "460000", True),   # 广东–海南 across the Qiongzhou Strait
    ("140000", "140000", False),
])
def test_adjacent_pairs(a, b, expected):
    assert adjacency.adjacent(a, b) is expected
    assert adjacency.adjacent(b, a) is expected


def test_shanxi_has_exactly_its_four_neighbours():
    assert adjacency.ADJACENT["140000"] == {"130000", "150000", "410000", "610000"}
