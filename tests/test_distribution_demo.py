"""The demo (``flask demo load``) has a distribution point in the demo village holding goods that
came through the real services (a dispatch from the county depot, signed for at the township,
taken in at the point), so the ``village`` user's hand-out page has stock; loading again adds
nothing."""
from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.demo_site import _demo_database, demo_app  # noqa: F401


def test_the_village_clerk_hands_out_demo_goods(_demo_database, tmp_path):
    from app.distribution.demo import GOODS, load_points
    from app.distribution.models import DistributionPoint, PointMovement
    from app.extensions import db

    app = demo_app(_demo_database, tmp_path)
    client = app.test_client()
    assert client.post("/login", data={"username": "village", "password": PASSWORD}).status_code == 302
    index = client.get("/distribution/").get_data(as_text=True)
    found = re.search(r'href="/distribution/points/(\d+)"', index)
    assert found, "the village clerk sees the demo point"
    page = client.get(f"/distribution/points/{found.group(1)}/handout")
    assert page.status_code == 200
    config = json.loads(re.search(r'<script type="application/json" id="form-config">(.*?)</script>',
                                  page.get_data(as_text=True), re.S).group(1))
    assert {s["item"]: s["on_hand"] for s in config["stock"]} == GOODS
    assert config["households"], "households of the demo village to hand out to"
    with app.test_request_context():
        said = []
        load_points(said.append)
        assert said == ["演示发放点已存在，跳过。"]
        assert db.session.scalar(select(func.count()).select_from(DistributionPoint)) == 1
        kinds = set(db.session.scalars(select(PointMovement.kind)))
        assert kinds == {"receipt"}
