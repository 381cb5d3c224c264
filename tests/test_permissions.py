"""The permission function as a full matrix: role × action × inside/outside jurisdiction."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.permissions import ANYWHERE, LEVEL_BOUND, POLICY, ROLES, Target, can, require
from app.errors import Forbidden

INSIDE, OUTSIDE = "140105001200", "650100"


def user(role, region="140105", id_=7, active=True):
    return SimpleNamespace(id=id_, role=role, region_code=region, is_authenticated=True, active=active)


@pytest.mark.parametrize("action", sorted(POLICY))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_matrix(role, action, where):
    """The user sits in a county (140105): a step bound to another level is refused even inside."""
    region = INSIDE if where == "inside" else OUTSIDE
    allowed = role in POLICY[action] and (where == "inside" or action in ANYWHERE) \
        and LEVEL_BOUND.get(action, "county") == "county"
    assert can(user(role), action, region) is allowed


@pytest.mark.parametrize("role", ROLES)
def test_national_jurisdiction_covers_everything(role):
    """Everything but the steps of the official order, which only a user of their level takes."""
    for action, roles in POLICY.items():
        assert can(user(role, "000000"), action, OUTSIDE) is (role in roles and action not in LEVEL_BOUND)


#: A user of each level inside 140105 (the county itself, a township, a village).
LEVELS = {"county": "140105", "township": "140105001", "village": "140105001200"}


@pytest.mark.parametrize("action", sorted(LEVEL_BOUND))
@pytest.mark.parametrize("level", list(LEVELS))
@pytest.mark.parametrize("role", ROLES)
def test_steps_of_the_official_order_are_taken_at_their_level(role, level, action):
    """role × level × step: 民主评议 by a village, 乡审 and 逐户核查 by a township, 县批 by a county."""
    allowed = role in POLICY[action] and LEVEL_BOUND[action] == level
    assert can(user(role, LEVELS[level]), action, INSIDE) is allowed
    if not allowed and role in POLICY[action]:
        with pytest.raises(Forbidden):
            require(user(role, LEVELS[level]), action, INSIDE)


def test_auditor_is_read_only():
    writes = [a for a in POLICY if not a.endswith((".view", ".view_id_number"))]
    assert not any(can(user("auditor"), a, INSIDE) for a in writes)


def test_depot_manager_needs_assignment():
    manager = user("depot_manager", "140000", id_=5)
    assert can(manager, "stock.receive", Target("140105", frozenset({5})))
    assert not can(manager, "stock.receive", Target("140105", frozenset({6})))
    # the jurisdiction still applies to an assigned manager
    assert not can(manager, "stock.receive", Target("650100", frozenset({5})))


def test_anonymous_and_inactive_users_may_do_nothing():
    anon = SimpleNamespace(is_authenticated=False)
    assert not can(anon, "region.view")
    assert not can(user("admin", "000000", active=False), "region.view")


def test_unknown_action_is_a_programming_error():
    with pytest.raises(KeyError):
        can(user("admin"), "launch.missiles")


def test_require_raises_forbidden_with_reason():
    with pytest.raises(Forbidden) as info:
        require(user("officer"), "event.create", OUTSIDE)
    assert "650100" in info.value.detail


def test_bad_region_code_is_refused():
    assert not can(user("admin", "000000"), "event.create", "12x")


def test_every_action_has_a_label_for_refusals_in_both_languages(app):
    """A refusal names the action in words (「审核或退回下级报告」), never 此操作 or the code."""
    from flask_babel import force_locale, gettext

    from app import areas

    unlabelled = sorted(set(areas.policy()) - set(areas.ACTION_LABELS))
    assert unlabelled == []
    with app.test_request_context(), force_locale("en"):
        untranslated = [label for label in areas.ACTION_LABELS.values() if gettext(label) == label]
    assert untranslated == []
