"""JSON Schemas of the API's answers (OpenAPI ``components/schemas``), referenced from the
operations' responses by :mod:`app.openapi` and checked by the schemathesis run of the suite.

They state what every answer carries (``required``) with its type; resources may grow new
fields without breaking clients, so extra properties are allowed.
"""
from __future__ import annotations

STRING = {"type": "string"}
NSTRING = {"type": "string", "nullable": True}
INT = {"type": "integer"}
NINT = {"type": "integer", "nullable": True}
NUMBER = {"type": "number"}
NNUMBER = {"type": "number", "nullable": True}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": "string", "format": "date-time", "nullable": True}
DATE = {"type": "string", "format": "date"}
NDATE = {"type": "string", "format": "date", "nullable": True}
OBJECT = {"type": "object"}
NOBJECT = {"type": "object", "nullable": True}
CODE = {"type": "string", "pattern": r"^\d{6}(\d{3}){0,2}$"}


def obj(required: dict, optional: dict | None = None) -> dict:
    """An object with these ``required`` properties (and ``optional`` ones when present)."""
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


FIGURES = {"type": "object", "additionalProperties": NUMBER,
           "description": "各项灾情指标（累计值），键为 API 字段名"}
FEATURES = obj({"type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": array(obj({"type": {"type": "string", "enum": ["Feature"]},
                                       "geometry": NOBJECT, "properties": OBJECT}))})

SCHEMAS: dict[str, dict] = {
    "Problem": obj({"type": STRING, "title": STRING, "status": INT, "detail": STRING,
                    "errors": array({"type": "object", "properties": {"field": STRING, "message": STRING}})}),
    "Page": obj({"items": array(OBJECT), "total": INT, "limit": INT, "offset": INT}),
    # accounts
    "Token": obj({"token": STRING, "expires_at": TIME}),
    "User": obj({"id": INT, "username": STRING, "full_name": STRING, "role": STRING, "region_code": CODE,
                 "active": BOOL}),
    "AuditEntry": obj({"id": INT, "at": TIME, "user": STRING, "action": STRING, "entity_type": STRING,
                       "entity_id": STRING, "region_code": NSTRING, "before": NOBJECT, "after": NOBJECT,
                       "note": NSTRING}),
    # regions
    "Region": obj({"code": CODE, "name": STRING, "level": STRING, "parent_code": NSTRING,
                   "population": NINT, "agricultural_population": NINT, "households": NINT,
                   "lon": NNUMBER, "lat": NNUMBER, "synthetic": BOOL}),
    # loss reporting
    "Event": obj({"id": INT, "name": STRING, "hazard": STRING, "hazard_label": STRING, "started_at": TIME,
                  "region_codes": array(CODE), "status": {"type": "string", "enum": ["active", "stable", "closed"]},
                  "stabilised_at": NTIME, "closed_at": NTIME, "major": BOOL}),
    "Report": obj({"id": INT, "event_id": INT, "region_code": CODE,
                   "kind": {"type": "string", "enum": ["initial", "update", "final"]}, "kind_label": STRING,
                   "sequence": INT, "as_of": TIME, "figures": FIGURES, "note": NSTRING, "submitted_by": STRING,
                   "submitted_at": TIME, "photo_count": INT, "photos_required": INT},
                  {"photos": array(ref("Photo"))}),
    "Photo": obj({"id": INT, "report_id": INT, "event_id": INT, "content_type": STRING, "size": INT,
                  "sha256": STRING, "uploaded_at": TIME}),
    "Forward": obj({"id": INT, "event_id": INT, "region_code": CODE, "kind": STRING, "sequence": INT,
                    "as_of": NTIME, "figures": FIGURES, "reporting_units": INT, "note": NSTRING,
                    "forwarded_by": STRING, "forwarded_at": TIME}),
    "Totals": obj({"region_code": CODE, "figures": FIGURES, "reporting_units": INT, "as_of": NTIME,
                   "basis": {"type": "string", "enum": ["own", "sum", "none"]}}),
    "Deadline": obj({"region_code": CODE, "level": STRING, "kind": STRING, "due_at": NTIME,
                     "status": {"type": "string", "enum": ["due", "overdue", "met"]}, "met_at": NTIME,
                     "late": BOOL},
                    {"to_level": {"type": "string", "enum": ["province", "nation"]}, "reports_to": CODE}),
    "EventRegion": obj({"event_id": INT, "region_code": CODE, "added_at": NTIME, "impact_at": NTIME,
                        "withdrawn_at": NTIME, "withdraw_reason": NSTRING, "stabilised_at": NTIME},
                       {"affected": BOOL}),
    "Timeliness": obj({"event_id": INT, "as_at": TIME, "units": array(obj(
        {"region_code": CODE, "name": STRING, "level": STRING, "fallen_due": INT, "met": INT, "on_time": INT,
         "overdue": INT, "completeness": NNUMBER, "timeliness": NNUMBER}))}),
    "ReportImport": obj({"imported": INT, "report_ids": array(INT)}),
    # response levels
    "Plan": obj({"id": STRING, "version": STRING, "name": STRING, "jurisdiction_code": CODE,
                 "unit_level": STRING, "active": BOOL, "levels": array(OBJECT)},
                {"versions": array(obj({"version": STRING, "active": BOOL}))}),
    "Assessment": obj({"event_id": INT, "evaluations": array(obj(
        {"plan_id": STRING, "plan_version": STRING, "region_code": CODE, "level": NSTRING, "rank": NINT}))}),
    "ResponseAction": obj({"id": INT, "event_id": INT, "plan_id": STRING, "plan_version": STRING,
                           "region_code": CODE, "action": {"type": "string", "enum": ["start", "adjust", "end"]},
                           "level": STRING, "rank": NINT, "reason": NSTRING, "by": STRING, "at": TIME}),
    "Alignment": obj({"event_id": INT, "flags": array(OBJECT)}),
    "Notification": obj({"id": INT, "kind": STRING, "title": STRING, "body": NSTRING, "link": NSTRING,
                         "read": BOOL, "created_at": TIME}),
    "Marked": obj({"marked": INT}),
    # depots and stock
    "Item": obj({"code": STRING, "name": STRING, "unit": STRING, "category": STRING, "shelf_life_days": NINT}),
    "Norms": obj({"region_code": CODE, "source": STRING, "norms": array(obj(
        {"item": STRING, "indicator": STRING, "per_person": NUMBER, "days": INT}))}),
    "Depot": obj({"code": STRING, "name": STRING, "tier": STRING, "tier_label": STRING, "region_code": CODE,
                  "lon": NUMBER, "lat": NUMBER, "capacity_m2": NNUMBER, "active": BOOL, "managers": array(STRING)}),
    "Reserve": obj({"depot": STRING, "item": STRING, "floor": INT, "released": BOOL}),
    "StockLine": obj({"item": STRING, "name": STRING, "unit": STRING, "on_hand": INT, "reserved": INT,
                      "available": INT, "expired": INT, "lots": array(obj({"lot": NSTRING, "expiry": NDATE,
                                                                           "on_hand": INT}))}),
    "Movement": obj({"id": INT, "at": TIME, "depot_code": STRING, "item": STRING, "lot": NSTRING,
                     "expiry": NDATE, "kind": STRING, "quantity": INT, "balance_after": INT,
                     "document_type": STRING, "document_id": STRING, "reason": NSTRING, "reverses_id": NINT,
                     "user": STRING}),
    "Movements": obj({"document_id": NSTRING, "depot_code": NSTRING, "item": NSTRING, "quantity": INT,
                      "balance_after": NINT, "movements": array(ref("Movement"))}),
    "WriteOff": obj({"movements": array(ref("Movement"))}),
    "Demand": obj({"region_code": CODE, "item": STRING, "quantity": NUMBER, "needed": NUMBER,
                   "dispatched": NUMBER}),
    "AllocationPlan": obj({"event_id": INT, "lines": array(obj({"depot_code": STRING, "region_code": CODE,
                                                                "item": STRING, "quantity": NUMBER})),
                           "unmet": array(OBJECT), "total_distance_quantity": NUMBER}),
    "AllocationAccepted": obj({"event_id": INT, "dispatch_ids": array(INT), "replayed": BOOL}),
    "Dispatch": obj({"id": INT, "event_id": NINT, "from_depot": STRING, "to_region_code": CODE,
                     "to_depot": NSTRING, "status": STRING, "status_label": STRING, "note": NSTRING,
                     "lines": array(obj({"item": STRING, "quantity": INT, "received_quantity": NINT,
                                         "discrepancy": NINT, "discrepancy_note": NSTRING})),
                     "requested_by": STRING, "requested_at": TIME, "approved_at": NTIME, "shipped_at": NTIME,
                     "received_at": NTIME, "cancelled_at": NTIME},
                    {"movements": array(OBJECT)}),
    "SupplyRequest": obj({"id": INT, "event_id": NINT, "from_region_code": CODE, "to_region_code": CODE,
                          "to_depot": NSTRING, "status": STRING, "status_label": STRING, "reason": STRING,
                          "lines": array(obj({"item": STRING, "quantity": INT, "filled": INT, "outstanding": INT})),
                          "dispatch_ids": array(INT), "raised_by": STRING, "raised_at": TIME,
                          "closed_at": NTIME, "to_central": BOOL, "addressee_code": STRING,
                          "steps": array(obj({"action": STRING, "level_code": STRING, "to_level_code": NSTRING,
                                              "lines": array(OBJECT), "note": NSTRING, "user": STRING,
                                              "at": TIME}))}),
    "Replenishment": obj({"id": INT, "status": STRING, "status_label": STRING, "depot_code": STRING,
                          "owed_by": STRING, "draw_dispatch_id": INT,
                          "lines": array(obj({"item": STRING, "owed": INT, "received": INT, "in_transit": INT,
                                              "outstanding": INT})),
                          "dispatch_ids": array(INT), "created_at": TIME, "settled_at": NTIME}),
    "RotationProposal": obj({"depot_code": STRING, "item": STRING, "lot": NSTRING, "expiry": DATE,
                             "days_left": INT, "quantity": INT, "action": STRING, "supply_request_id": NINT,
                             "to_region_code": NSTRING, "distance_km": NNUMBER}),
    "AreaStandard": obj({"depot_code": STRING, "tier": STRING, "area_m2": NNUMBER, "verdict": STRING,
                         "people_served": NINT, "bands": array(OBJECT), "band": NOBJECT}),
    # relief cycles
    "Household": obj({"id": INT, "village_code": CODE, "head_name": STRING, "id_number": STRING,
                      "id_number_masked": BOOL, "members": INT, "contact": STRING, "address": STRING,
                      "bank_account": STRING, "bank_name": STRING, "damage_class": STRING,
                      "damage_label": STRING, "note": STRING, "updated_at": NTIME}),
    "HouseholdImport": OBJECT,
    "Cycle": obj({"id": INT, "kind": STRING, "kind_label": STRING, "name": STRING, "region_code": CODE,
                  "event_id": NINT, "year": NINT, "status": STRING, "status_label": STRING,
                  "allowed_actions": array(STRING), "starts_on": NDATE, "months": NINT, "pay_to_month": NINT,
                  "notice_days": INT, "notice_ends_at": NTIME, "fund_line_id": NINT, "note": NSTRING,
                  "created_at": NTIME},
                 {"beneficiary_count": INT, "fund_line": NOBJECT,
                  "totals": obj({"owed": NUMBER, "paid": NUMBER, "outstanding": NUMBER})}),
    "Beneficiary": obj({"id": INT, "cycle_id": INT, "household_id": INT, "head_name": STRING,
                        "id_number": STRING, "village_code": CODE, "persons": INT, "deceased": INT,
                        "needs": OBJECT, "eligible": BOOL, "reasons": array(STRING), "priority": BOOL,
                        "village_decision": NSTRING, "township_decision": NSTRING},
                       {"amount": NUMBER}),
    "Beneficiaries": obj({"items": array(ref("Beneficiary")), "count": INT}),
    "Roll": obj({"id": INT, "cycle_id": INT, "seq": INT, "kind": STRING, "purpose": STRING, "status": STRING,
                 "reason": NSTRING, "total": NUMBER, "entry_count": INT, "frozen_at": NTIME},
                {"entries": array(OBJECT)}),
    "PaymentRoll": obj({"id": INT, "cycle_id": INT, "period": STRING, "cutoff": STRING, "status": STRING,
                        "total": NUMBER, "payment_count": INT, "shortfall": NUMBER, "created_at": TIME,
                        "completed_at": NTIME},
                       {"payments": array(ref("Payment"))}),
    "Payment": obj({"id": INT, "cycle_id": INT, "household_id": INT, "period": STRING, "label": STRING,
                    "payment_roll_id": NINT, "fund_line_id": NINT, "amount": NUMBER, "head_name": STRING,
                    "id_number": STRING, "bank_account": STRING, "created_at": TIME, "attempt": INT,
                    "reissue_of_id": NINT},
                   {"status": STRING, "status_label": STRING, "reason": STRING, "reissued_as": NINT,
                    "reissued_in": NSTRING}),
    "BankReturn": obj({"id": INT, "payment_roll_id": INT, "file_name": STRING, "user": STRING, "lines": INT,
                       "paid": INT, "failed": INT, "returned": INT, "credited": NUMBER, "at": TIME},
                      {"unchanged": INT}),
    "BatchReconciliation": obj({"batch": ref("PaymentRoll"), "cycle": OBJECT, "totals": OBJECT,
                                "payments": array(ref("Payment")), "failures": array(ref("Payment")),
                                "returns": array(ref("BankReturn"))}),
    "FundEstimate": obj({"event": OBJECT, "region_code": CODE, "region_name": STRING, "kinds": OBJECT,
                         "rows": array(OBJECT), "total": OBJECT, "need": NUMBER, "received": NUMBER, "gap": NUMBER,
                         "names": OBJECT, "norms": OBJECT, "made_on": STRING}),
    "LineReconciliation": obj({"line": OBJECT, "received": NUMBER, "paid": NUMBER, "credited": NUMBER,
                               "balance": NUMBER, "balanced": BOOL, "batches": array(OBJECT)}),
    "Notice": obj({"id": INT, "cycle_id": INT, "roll_id": NINT, "posted_at": TIME, "ends_at": TIME,
                   "location": NSTRING, "household_count": INT, "total": NUMBER, "withdrawn_at": NTIME},
                  {"rows": array(OBJECT)}),
    "Complaint": obj({"id": INT, "cycle_id": INT, "household_id": NINT, "complainant": NSTRING,
                      "content": STRING, "status": STRING, "resolution": NSTRING, "received_at": TIME,
                      "resolved_at": NTIME}),
    "Project": obj({"id": INT, "cycle_id": INT, "household_id": INT, "stage": STRING, "stage_label": STRING,
                    "last_report_at": TIME, "next_report_due": NTIME, "report_overdue": BOOL}),
    "HouseCheck": obj({"id": INT, "cycle_id": INT, "household_id": INT, "checked_at": TIME, "checked_by": STRING,
                       "checkers": STRING, "registered_class": STRING, "found_class": STRING, "outcome": STRING,
                       "exclusion": NSTRING, "reason": NSTRING, "late": BOOL, "photo_count": INT}),
    "Step": obj({"step": STRING, "label": STRING, "cycle_id": INT, "roll_id": NINT, "count": INT, "due": NTIME,
                 "overdue": BOOL}),
    "ProgressReport": obj({"id": INT, "project_id": INT, "stage": STRING, "observed_at": TIME, "note": NSTRING,
                           "reported_by": STRING, "submitted_at": TIME}),
    "FundLine": obj({"id": INT, "source_id": INT, "relief_item": STRING, "relief_item_label": STRING,
                     "budget": NUMBER, "spent": NUMBER, "balance": NUMBER}),
    "FundSource": obj({"id": INT, "code": STRING, "name": STRING, "level": STRING, "level_label": STRING,
                       "region_code": CODE, "year": INT, "note": NSTRING, "lines": array(ref("FundLine"))}),
    "FundEntry": obj({"id": INT, "line_id": INT, "source_id": INT, "cycle_id": NINT, "payment_id": NINT,
                      "credit_of_id": NINT,
                      "kind": STRING, "amount": NUMBER, "balance_after": NUMBER, "user": STRING, "note": NSTRING,
                      "at": TIME}),
    "FundReport": obj({"by_item": array(obj({"relief_item": STRING, "budget": NUMBER, "spent": NUMBER,
                                              "balance": NUMBER})),
                       "sources": array(OBJECT)}),
    "NeedsTable": obj({"year": INT, "region_code": CODE, "columns": OBJECT, "rows": array(OBJECT), "total": OBJECT}),
    "NeedsSubmission": obj({"id": INT, "year": INT, "region_code": CODE, "level": STRING, "figures": OBJECT,
                            "submitted_by": STRING, "submitted_at": TIME}),
    "WinterDeadline": obj({"region_code": CODE, "level": STRING, "due_at": NTIME, "status": STRING}),
    "Jobs": obj({"items": array(obj({"id": STRING, "name": STRING, "trigger": OBJECT, "last_run": NOBJECT})),
                 "lease": NOBJECT}),
    # public release, complaints from the public
    "Release": obj({"id": INT, "event_id": INT, "region_code": CODE, "version": INT, "status": STRING,
                    "title": STRING, "summary": STRING, "relief": STRING, "as_of": TIME, "figures": OBJECT,
                    "responses": array(OBJECT), "corrects_id": NINT, "changes": array(OBJECT),
                    "change_note": STRING, "approved_at": NTIME}),
    "ComplaintTicket": obj({"ticket": STRING, "kind_label": STRING, "subject_label": STRING, "status": STRING,
                            "status_label": STRING, "received_at": TIME, "due_on": DATE, "answer": NSTRING,
                            "answered_at": NTIME}),
    "PublicComplaint": obj({"id": INT, "ticket": STRING, "kind": STRING, "subject": STRING, "programme": STRING,
                            "region_code": CODE, "household_named": STRING, "content": STRING, "anonymous": BOOL,
                            "name": NSTRING, "contact": NSTRING, "household_id": NINT, "escalation_level": INT,
                            "status": STRING, "status_label": STRING, "received_at": TIME, "due_on": DATE,
                            "answer": NSTRING, "answered_at": NTIME}),
    # the map
    "FeatureCollection": FEATURES,
    "NearestDepot": obj({"village_code": CODE, "depot_code": NSTRING, "distance_km": NNUMBER}),
}
