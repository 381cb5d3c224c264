"""Helpers of the distribution tests (发放签领), the browser journey and the bench: an event, a
depot whose goods were dispatched to a township and received there, households in the registry
of a village, and a point in that village that took the goods in."""
from __future__ import annotations

import base64
import struct
import zlib
from datetime import datetime, timezone

from app.extensions import db

VILLAGE = "140105001200"
TOWNSHIP = "140105001"


def png(width: int = 40, height: int = 20, seed: int = 1) -> str:
    """A small valid PNG (a signature stand-in) as a data URL."""
    raw = b"".join(b"\x00" + bytes(((x * seed + y) % 256) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(data).decode()


def id_number(n: int) -> str:
    """A valid identity number, different for each ``n`` (a birth date from 1960 on, a sequence)."""
    from datetime import date, timedelta

    from app.idcard import with_check_character

    born = date(1960, 1, 1) + timedelta(days=n // 1000)
    return with_check_character(f"140105{born:%Y%m%d}{n % 1000:03d}")


def make_households(count: int, village: str = VILLAGE, start: int = 1) -> list[int]:
    from app.cycles.models import Household

    rows = [Household(village_code=village, head_name=f"户主{n}", id_number=id_number(n), members=1 + n % 5)
            for n in range(start, start + count)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def make_event(regions=("140105",)) -> int:
    from app.regions.models import Region
    from app.reports.models import Event

    event = Event(name="测试洪涝", hazard="flood", started_at=datetime(2024, 7, 1, tzinfo=timezone.utc), status="active")
    event.regions = [db.session.get(Region, code) for code in regions]
    db.session.add(event)
    db.session.commit()
    return event.id


def received_dispatch(event_id: int, lines: dict[str, int], *, depot: str = "XD-140105",
                      to_region: str = TOWNSHIP, received: dict[str, int] | None = None) -> int:
    """Goods received at ``depot``, dispatched to ``to_region`` and received there (the system)."""
    from app.depots import service
    from app.depots.models import Depot

    service.ensure_catalogue()
    db.session.commit()
    if db.session.get(Depot, depot) is None:
        service.create_depot(None, {"code": depot, "name": f"{depot}库", "tier": "county", "region_code": "140105",
                                    "lon": 112.56, "lat": 37.74})
    for item, quantity in lines.items():
        service.receive_stock(None, depot, item, quantity, "初始库存")
    dispatch = service.create_dispatch(None, {"event_id": event_id, "from_depot": depot, "to_region_code": to_region,
                                              "lines": [{"item": i, "quantity": q} for i, q in lines.items()]})
    service.approve_dispatch(None, dispatch.id)
    body = {"lines": [{"item": i, "quantity": q} for i, q in (received or {}).items()]} if received else {}
    service.receive_dispatch(None, dispatch.id, body)
    return dispatch.id


def make_point(event_id: int, region: str = VILLAGE, name: str = "示例一村发放点") -> int:
    from app.distribution.models import DistributionPoint

    point = DistributionPoint(event_id=event_id, region_code=region, name=name, kind="village", created_by="test")
    db.session.add(point)
    db.session.commit()
    return point.id


def stocked_point(app, *, households: int = 5, lines: dict[str, int] | None = None) -> dict:
    """An event, a received dispatch, ``households`` households, and a point that took it all in."""
    from app.distribution.service import receive_goods

    with app.app_context():
        event_id = make_event()
        dispatch_id = received_dispatch(event_id, lines or {"quilt": 20, "tent": 10})
        ids = make_households(households)
        point_id = make_point(event_id)
        receive_goods(_system_clerk(), point_id, {"dispatch_id": dispatch_id})
        return {"event_id": event_id, "dispatch_id": dispatch_id, "households": ids, "point_id": point_id}


def _system_clerk():
    from tests.factories import make_user

    return make_user("officer", "140105001", "township-clerk")
