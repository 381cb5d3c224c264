"""Counting the SQL statements a block of code or a page runs: the tests that a page reads what
it shows in a fixed number of queries, whether it shows one row or many (我的待办, the relief
table, the distribution pages, condolence lines, replenishment)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event as sa_event

from app.extensions import db

#: Statements that manage a transaction rather than read or write.
_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def statements(app):
    """The SQL statements run inside the block, as a list filled while it runs."""
    found: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(_TRANSACTION):
            found.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


def page_statements(app, client, url: str) -> list[str]:
    """The statements a page's GET runs (after one GET before, so that what a first request
    reads once, the session's touch for one, is not counted)."""
    assert client.get(url).status_code == 200, url
    with statements(app) as found:
        response = client.get(url)
    assert response.status_code == 200, url
    return found
