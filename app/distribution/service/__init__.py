"""The distribution service (发放签领), by subject (:mod:`.points`, :mod:`.handouts`, :mod:`.reports`;
shared pieces in :mod:`.common`): points, their stock, hand-outs to households, rounds,
returns and the reports. Every function a page or the API calls takes the user first, checks
permission first, validates through :func:`app.validation.validate`, runs one transaction and
writes the audit.

Lock order: the point row, then its balance rows (then, for a receipt, the dispatch; for a
return, the depot through :func:`app.depots.return_to_depot`). On SQLite every transaction is
``BEGIN IMMEDIATE``, which serialises writers; on PostgreSQL the locks are ``FOR UPDATE``. A
hand-out is also held by the database's unique constraint (event, household, item, round): two
clerks handing the same quilt to the same household at once file one hand-out, the other is 409.
"""
from __future__ import annotations

from .common import (MAX_QUANTITY, ITEM, LINE, POINT_FIELDS, RECEIVE_FIELDS, PERSON_FIELDS, PROOF_KINDS, HANDOUT_FIELDS,
                     ROUND_FIELDS, RETURN_FIELDS, get_point, visible_points, PointBook, point_stock, current_round)
from .points import (create_point, stock_for, ledger_for, receivable_dispatches, receive_goods, open_round, return_goods,
                     return_from_form, create_point_from_form)
from .handouts import hand_out, handout_body, proof_for
from .reports import (report_for, household_report, report_workbook, check_point_ledger, index_page, point_page,
                     handout_page, home_panel, places)

__all__ = ['HANDOUT_FIELDS', 'ITEM', 'LINE', 'MAX_QUANTITY', 'PERSON_FIELDS', 'POINT_FIELDS', 'PROOF_KINDS',
           'PointBook', 'RECEIVE_FIELDS', 'RETURN_FIELDS', 'ROUND_FIELDS', 'check_point_ledger',
           'create_point', 'create_point_from_form', 'current_round', 'get_point', 'hand_out',
           'handout_body', 'handout_page', 'home_panel', 'household_report', 'index_page',
           'ledger_for', 'open_round', 'places', 'point_page', 'point_stock', 'proof_for',
           'receivable_dispatches', 'receive_goods', 'report_for', 'report_workbook',
           'return_from_form', 'return_goods', 'stock_for', 'visible_points']
