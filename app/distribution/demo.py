"""Demo step ``app.distribution.demo:load_points``: a distribution point in the demo village
(the region of the demo user ``village``) holding goods of the demo event, so that the village
clerk's hand-out page has stock to hand out. The goods come as people would bring them: a dispatch
from the county depot to the township, approved, shipped and signed for there
(:func:`app.depots.received_demo_dispatch`), then taken in at the point by the village clerk
(:func:`.service.receive_goods`). Idempotent: an existing point of the event there is left alone."""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ..auth import User
from ..depots import received_demo_dispatch
from ..extensions import db
from ..reports import Event, event_covers
from .models import DistributionPoint
from .service import create_point, receive_goods

#: What the demo dispatch brings to the township (the county depot's demo stock holds more).
GOODS = {"tent": 20, "quilt": 60, "water": 200, "instant_food": 100}


def load_points(echo) -> None:
    clerk = db.session.scalar(select(User).filter_by(username="village", active=True))
    if clerk is None:
        echo("没有演示用户 village，跳过演示发放点。")
        return
    village = clerk.region_code
    event = db.session.scalar(select(Event).where(Event.status != "closed").order_by(Event.id))
    if event is None or not event_covers(event, village):
        echo("演示灾害过程不含演示村，跳过演示发放点。")
        return
    if db.session.scalar(select(DistributionPoint.id).filter_by(event_id=event.id, region_code=village)):
        echo("演示发放点已存在，跳过。")
        return
    township = codes.parent_of(village)
    dispatch_id = received_demo_dispatch(event.id, township, GOODS, "示例数据：调拨到乡镇，供村发放点接收")
    if dispatch_id is None:
        echo("没有演示县级物资库，跳过演示发放点。")
        return
    point = create_point(clerk, {"event_id": event.id, "region_code": village, "name": "村委会发放点",
                                 "kind": "village"})
    receive_goods(clerk, point.id, {"dispatch_id": dispatch_id})
    echo(f"演示发放点：{point.name}（{village}），已接收调拨单 #{dispatch_id} 的物资。")
