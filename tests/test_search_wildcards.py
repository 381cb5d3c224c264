"""A search box takes what is typed literally: "%", "_" and "\\" are characters to find, never
LIKE wildcards, in every search (regions, the depots' pickers, households), through the one
helper of ``app.regions``."""
from __future__ import annotations

import pytest

from app.extensions import db


@pytest.mark.parametrize("text, pattern", [("示例", "%示例%"), ("10%", "%10\\%%"), ("a_b", "%a\\_b%"),
                                           ("c:\\d", "%c:\\\\d%")])
def test_like_contains_escapes_the_wildcards(text, pattern):
    from app.regions import like_contains

    assert like_contains(text) == pattern


def test_region_search_takes_wildcards_literally(app):
    from app.regions import Region, search_regions

    with app.app_context():
        assert search_regions("%") == [] and search_regions("_") == []
        db.session.add(Region(code="140105001202", name="百分%村", level="village", parent_code="140105001"))
        db.session.commit()
        assert [r["code"] for r in search_regions("%")] == ["140105001202"]
        assert [r["code"] for r in search_regions("示例")] == ["140105001", "140105001200", "140105001201"]


def test_depot_picker_takes_wildcards_literally(app):
    from app.depots import service
    from tests.factories import make_user

    with app.app_context():
        for code, name in (("XD_A", "甲库"), ("XDB", "乙库"), ("XDC", "丙%库")):
            service.create_depot(None, {"code": code, "name": name, "tier": "county", "region_code": "140105",
                                        "lon": 112.56, "lat": 37.74})
        user = make_user("coordinator", "140000")
        found = lambda q: [d["code"] for d in service.destinations(user, q, "depot")]  # noqa: E731
        assert found("_") == ["XD_A"]
        assert found("%") == ["XDC"]
        assert sorted(found("xd")) == ["XDB", "XDC", "XD_A"]  # codes match whatever their case


def test_household_search_takes_wildcards_literally(app):
    from app.cycles.service.households import household_query
    from tests.distribution_support import make_households
    from tests.factories import make_user

    with app.app_context():
        make_households(3)
        user = make_user("officer", "140105")
        names = lambda q: [h.head_name for h in db.session.scalars(household_query(user, q=q))]  # noqa: E731
        assert names("%") == [] and names("_") == []
        assert names("户主2") == ["户主2"]
