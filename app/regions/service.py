"""Regions: look-ups, the import of region files, and code checks against the database."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterable

import shapely
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite

from gis import codes

from .. import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..i18n import named
from ..permissions import require
from ..types import Geometry
from .models import Region

IMPORT_CHUNK = 5000
COLUMNS = ("code", "name", "level", "parent_code", "population", "agricultural_population",
           "households", "lon", "lat", "boundary", "synthetic", "source")
_COLUMN_SET = frozenset(COLUMNS)


def region_for(user, code: str) -> Region:
    """A region, for a user who may see the geography (reference data: every signed-in user)."""
    require(user, "region.view")
    return get_region(code)


def children_for(user, code: str):
    """A ``select`` of a region's children, for a user who may see the geography."""
    require(user, "region.view")
    return children_query(code)


def browse(user, code: str | None = None, limit: int = 2000) -> dict:
    """What the region browser shows: the region (``None`` for the provinces), its children and
    the trail of its ancestors from the top."""
    require(user, "region.view")
    if code is None:
        provinces = db.session.scalars(select(Region).where(Region.level == "province")
                                       .order_by(Region.code)).all()
        return {"region": None, "children": provinces, "trail": []}
    region = get_region(code)
    children = db.session.scalars(children_query(code).limit(limit)).all()
    trail = []
    parent = region.parent_code
    while parent:
        row = db.session.get(Region, parent)
        if row is None:
            break
        trail.insert(0, row)
        parent = row.parent_code
    return {"region": region, "children": children, "trail": trail}


def get_region(code: str) -> Region:
    try:
        code = codes.normalise(code)
    except codes.CodeError as exc:
        raise Invalid(str(exc), [{"field": "code", "message": str(exc)}]) from exc
    region = db.session.get(Region, code)
    if region is None:
        raise NotFound(f"区划 {code} 不存在。")
    return region


#: The escape character of the patterns :func:`name_contains` builds.
LIKE_ESCAPE = "\\"


def like_contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its ``%``, ``_`` and ``\\`` taken literally
    (to be used with ``escape=LIKE_ESCAPE``): a search for "10%" or "a_b" finds only those."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def name_contains(column, text: str):
    """The SQL condition "``column`` holds ``text``" (case-insensitive, wildcards in ``text``
    taken literally): what every search box of the application matches a name with."""
    return column.ilike(like_contains(text), escape=LIKE_ESCAPE)


#: What a region search ranks first: the upper levels (fewer, more often meant).
_LEVEL_ORDER = {"province": 0, "prefecture": 1, "county": 2, "township": 3, "village": 4}


def search_regions(query: str | None, *, within: str | None = None, levels: Iterable[str] | None = None,
                   limit: int = 20) -> list[dict]:
    """Regions whose name holds ``query`` or whose code starts with it (a picker's search):
    ``[{code, name, level, label}]``, the label prefixed with the parent's name (two villages
    of one name apart), upper levels first; only inside ``within`` (a region code) and of
    ``levels`` when given. No permission: callers checked."""
    text = (query or "").strip()[:40]
    if not text:
        return []
    stmt = select(Region).where(Region.code.like(text + "%") if text.isdigit()
                                else name_contains(Region.name, text))
    if within and within != codes.NATIONAL:
        stmt = stmt.where(subtree_condition(Region.code, within))
    if levels is not None:
        stmt = stmt.where(Region.level.in_(list(levels)))
    rows = db.session.scalars(stmt.order_by(Region.code).limit(limit * 5)).all()
    rows = sorted(rows, key=lambda r: (_LEVEL_ORDER.get(r.level, 9), r.code))[:limit]
    parents = region_names({r.parent_code for r in rows if r.parent_code})
    return [{"code": r.code, "name": r.name, "level": r.level,
             "label": named(parents.get(r.parent_code, "") + r.name, r.code)} for r in rows]


def region_names(region_codes) -> dict[str, str]:
    """``{code: name}`` of these regions, in one query (全国 for the national code): for pages
    and workbooks that show names where the rows hold codes."""
    from ..i18n import translate

    wanted = {c for c in region_codes if c}
    names = {codes.NATIONAL: translate("全国")} if codes.NATIONAL in wanted else {}
    wanted.discard(codes.NATIONAL)
    if wanted:
        names.update(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all())
    return names


def find_region(code: str) -> Region | None:
    """The region with this (canonical) code, or ``None``: for other areas' services."""
    return db.session.get(Region, code)


def children_query(code: str):
    parent = get_region(code)
    return select(Region).where(Region.parent_code == parent.code).order_by(Region.code)


def descendant_codes(code: str, level: str | None = None) -> list[str]:
    """Codes of the region and all its descendants (optionally only those of one level)."""
    prefix = codes.prefix_of(code)
    stmt = select(Region.code).where(Region.code.like(prefix + "%"))
    if level:
        stmt = stmt.where(Region.level == level)
    found = db.session.scalars(stmt).all()
    return [c for c in found if codes.is_within(c, code)]


@dataclass
class ImportOutcome:
    imported: int = 0
    skipped_rows: int = 0
    errors: list = field(default_factory=list)


def import_regions(actor, records: list[dict], read_errors: Iterable = (), *, skip_bad: bool = False,
                   source: str = "", progress: Callable[[int, int], None] | None = None) -> ImportOutcome:
    """Insert or update regions from parsed rows (all or nothing unless ``skip_bad``).

    Every row's parent must exist already or come earlier in the same file (parents are taken
    before children whatever the file order). Errors name the row number, field and reason.
    Values the database columns cannot hold (a name longer than ``region.name``, a count beyond
    a 32-bit integer) are row errors too, found before anything is written.
    """
    if actor is not None:
        require(actor, "region.import", actor.region_code)
    errors = list(read_errors)
    errors.extend(_column_errors(records))
    bad_rows = {e.row for e in errors}
    known = set(db.session.scalars(select(Region.code)).all())
    existing = known | {r["code"] for i, r in enumerate(records) if r.get("_row", i + 1) not in bad_rows}
    rows: list[dict] = []
    canonical: dict[str, str] = {}  # given parent codes, normalised once each
    for index, record in enumerate(sorted(records, key=lambda r: (len(r["code"]), r["code"]))):
        row_number = record.get("_row", index + 1)
        if row_number in bad_rows:
            continue
        row = {k: v for k, v in record.items() if k in _COLUMN_SET}
        row["level"] = codes.level_of(row["code"])
        parent = _resolve_parent(row["code"], row.get("parent_code"), existing, row["level"], canonical)
        if parent is False:
            errors.append(_RowError(row_number, "parent_code",
                                    f"上级区划 {codes.parent_of(row['code'])} 不存在（请先导入上级区划）"))
            bad_rows.add(row_number)
            continue
        row["parent_code"] = parent
        if isinstance(row.get("boundary"), shapely.Polygon):
            row["boundary"] = shapely.MultiPolygon([row["boundary"]])
        row["source"] = (row.get("source") or source)[-_SOURCE_LENGTH:]
        for name in ("population", "agricultural_population", "households"):
            row[name] = int(row.get(name) or 0)
        rows.append(row)
    if errors and not skip_bad:
        db.session.rollback()
        return ImportOutcome(0, len(bad_rows), sorted(errors, key=lambda e: (e.row, e.field)))

    total = len(rows)
    try:
        for start in range(0, total, IMPORT_CHUNK):
            chunk = rows[start:start + IMPORT_CHUNK]
            _upsert(chunk)
            if progress:
                progress(min(start + IMPORT_CHUNK, total), total)
    except Exception:
        db.session.rollback()  # one transaction: nothing of the file stays
        raise
    audit.record(actor, "region.import", "region_file", (os.path.basename(source) or "-")[:80],
                 after={"rows": total, "skipped": len(bad_rows), "source": source})
    db.session.commit()
    return ImportOutcome(total, len(bad_rows), sorted(errors, key=lambda e: (e.row, e.field)))


@dataclass(frozen=True)
class _RowError:
    row: int
    field: str
    reason: str


_NAME_LENGTH = Region.__table__.c.name.type.length
_SOURCE_LENGTH = Region.__table__.c.source.type.length
_COUNT_MAX = 2_147_483_647  # region counts are INTEGER columns


def _column_errors(records: list[dict]) -> list[_RowError]:
    """Values the ``region`` table cannot hold, as row errors."""
    found = []
    for index, record in enumerate(records):
        row = record.get("_row", index + 1)
        name = record.get("name")
        if isinstance(name, str) and len(name) > _NAME_LENGTH:
            found.append(_RowError(row, "name", f"名称过长（{len(name)} 个字符，最多 {_NAME_LENGTH} 个）"))
        for column in ("population", "agricultural_population", "households"):
            value = record.get(column)
            if isinstance(value, int) and not 0 <= value <= _COUNT_MAX:
                found.append(_RowError(row, column, f"必须是 0 到 {_COUNT_MAX} 之间的整数"))
    return found


def _resolve_parent(code: str, given: str | None, existing: set[str], level: str | None = None,
                    canonical: dict[str, str] | None = None):
    """The parent code to store: the given one, else the nearest existing ancestor.

    Province-administered counties (省直辖县, e.g. 429004) have no prefecture row, so the rule of
    ``domain.md`` §6 is followed up the chain until a region exists. ``False`` means no ancestor.
    ``level`` is the code's level when known; ``canonical`` memoises the normalised given codes
    (a file names each township as parent of many villages).
    """
    if (level or codes.level_of(code)) == "province":
        return None
    if given:
        if canonical is None:
            given = codes.normalise(given)
        else:
            normalised = canonical.get(given)
            if normalised is None:
                normalised = canonical[given] = codes.normalise(given)
            given = normalised
        return given if given in existing else False
    for ancestor in codes.ancestors(code):
        if ancestor in existing:
            return ancestor
    return False


def _upsert(chunk: list[dict]) -> None:
    """Insert the rows of ``chunk``, updating the columns they carry where the code exists.

    Every column any row of the chunk carries is written (``None`` where a row lacks it); the
    others keep their value on an update and take their default on an insert.
    """
    columns = sorted({k for row in chunk for k in row})
    if db.session.get_bind().dialect.name == "postgresql":
        _upsert_postgresql(chunk, columns)
        return
    full = [{k: row.get(k) for k in columns} for row in chunk]
    stmt = sqlite.insert(Region)
    update = {c: getattr(stmt.excluded, c) for c in columns if c != "code"}
    db.session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=update), full)


_STAGING = "_region_import"


def _upsert_postgresql(chunk: list[dict], columns: list[str]) -> None:
    """PostgreSQL: ``COPY`` the chunk into a temporary table of the transaction, then one
    ``INSERT … SELECT … ON CONFLICT (code) DO UPDATE`` from it.

    The same upsert as the SQLite path, in two statements instead of one per row: the rows
    travel in COPY's format, the server checks them (types, lengths, the parent's foreign key)
    as it does any insert, and the temporary table goes with the transaction (``ON COMMIT
    DROP``), so a rollback leaves nothing behind. An error of either statement is raised as
    SQLAlchemy's ``DBAPIError``, like one of ``session.execute``.
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError

    if len({row.get("code") for row in chunk}) < len(chunk):
        # One statement cannot update a row twice: the last row of a code wins, as it did when
        # every row was its own statement (the file reader refuses duplicates before this).
        chunk = list({row.get("code"): row for row in chunk}.values())
    table = Region.__table__
    scalar_defaults = {c.name: c.default.arg for c in table.columns
                       if c.default is not None and not callable(c.default.arg)}
    defaults = {c: v for c, v in scalar_defaults.items() if c not in columns}
    geometry = {c.name for c in table.columns if isinstance(c.type, Geometry)}
    values = []
    for name in columns:
        column = [row.get(name) for row in chunk]
        if name in scalar_defaults:  # as SQLAlchemy's bulk insert: None takes the column's default
            default = scalar_defaults[name]
            column = [default if v is None else v for v in column]
        elif name in geometry:
            column = [None if g is None else _ewkb(g) for g in column]
        values.append(column)
    quoted = ", ".join(f'"{c}"' for c in columns)
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    statement = f"COPY {_STAGING} ({quoted}) FROM STDIN"
    try:
        with raw.cursor() as cursor:
            # The chunk's columns with region's types, no constraints: the insert checks them.
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGING}")
            cursor.execute(f"CREATE TEMPORARY TABLE {_STAGING} ON COMMIT DROP AS "
                           f"SELECT {quoted} FROM region WITH NO DATA")
            with cursor.copy(statement) as copy:
                for row in zip(*values):
                    copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    inserted = ", ".join(f'"{c}"' for c in [*columns, *defaults])
    selected = ", ".join([*(f'"{c}"' for c in columns), *(f":default_{c}" for c in defaults)])
    update = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "code")
    db.session.execute(
        text(f"INSERT INTO region ({inserted}) SELECT {selected} FROM {_STAGING} ORDER BY length(code), code "
             "ON CONFLICT (code) DO " + (f"UPDATE SET {update}" if update else "NOTHING")),
        {f"default_{c}": v for c, v in defaults.items()})


def _ewkb(geometry) -> str:
    """Hex EWKB with SRID 4326, as PostGIS reads it in COPY."""
    if not shapely.get_srid(geometry):
        geometry = shapely.set_srid(geometry, 4326)
    return shapely.to_wkb(geometry, hex=True, include_srid=True)


def subtree_condition(column, code: str):
    """A SQL condition: ``column`` (a region code) is ``code`` or one of its descendants; every
    code for the national code. A range on the code, so an index on ``column`` serves it."""
    prefix = codes.prefix_of(code)
    if not prefix:
        return column.isnot(None)
    high = str(int(prefix) + 1).zfill(len(prefix))
    return (column >= prefix) & (column < high)
