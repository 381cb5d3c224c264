"""Tiny model factories with defaults and overrides (as redash's tests/factories.py)."""
from __future__ import annotations

import itertools

import shapely

from app.auth.models import User
from app.extensions import db
from app.regions.models import Region

PASSWORD = "correct-horse-9"
_counter = itertools.count(1)

GEOGRAPHY = (
    # code, name, parent, population, agricultural, households, lon, lat
    ("140000", "山西省", None, 34_900_000, 19_000_000, 12_000_000, 112.55, 37.87),
    ("140100", "太原市", "140000", 5_300_000, 1_000_000, 1_800_000, 112.55, 37.87),
    ("140105", "小店区", "140100", 900_000, 100_000, 300_000, 112.56, 37.74),
    ("140105001", "示例镇", "140105", 30_000, 20_000, 10_000, 112.57, 37.70),
    ("140105001200", "示例一村", "140105001", 1_200, 900, 400, 112.571, 37.701),
    ("140105001201", "示例二村", "140105001", 800, 600, 280, 112.60, 37.72),
    ("140106", "迎泽区", "140100", 600_000, 50_000, 200_000, 112.56, 37.86),
    ("140200", "大同市", "140000", 3_100_000, 1_400_000, 1_100_000, 113.30, 40.08),
    ("140212", "新荣区", "140200", 100_000, 70_000, 35_000, 113.14, 40.26),
    ("650000", "新疆维吾尔自治区", None, 25_900_000, 13_000_000, 8_000_000, 87.62, 43.82),
    ("650100", "乌鲁木齐市", "650000", 4_000_000, 300_000, 1_400_000, 87.62, 43.82),
)


def seed_geography() -> None:
    for code, name, parent, pop, agri, households, lon, lat in GEOGRAPHY:
        from gis import codes

        region = Region(code=code, name=name, level=codes.level_of(code), parent_code=parent,
                        population=pop, agricultural_population=agri, households=households,
                        lon=lon, lat=lat)
        if code == "140105":
            region.boundary = shapely.MultiPolygon([shapely.box(112.5, 37.6, 112.7, 37.8)])
        db.session.add(region)
        db.session.flush()
    db.session.commit()


def make_user(role: str, region: str = "140000", username: str | None = None, password: str = PASSWORD) -> User:
    username = username or f"{role}{next(_counter)}"
    existing = db.session.query(User).filter_by(username=username).one_or_none()
    if existing:
        return existing
    user = User(username=username, role=role, region_code=region, full_name=f"测试{role}")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user
