"""上下级衔接: once a higher level of government responds, each lower level inside it should
respond at a tier no lower (``domain.md`` §2)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ._evaluate import _Plain
from ._model import NATIONAL

_ZH_DIGITS = "一二三四五六七八九十"


def rank_zh(rank: int) -> str:
    """A rank in the Chinese wording of the plans.

    >>> rank_zh(2)
    '二级'
    """
    if 1 <= rank <= len(_ZH_DIGITS):
        return f"{_ZH_DIGITS[rank - 1]}级"
    return f"{rank}级"


@dataclass(frozen=True)
class ActiveResponse:
    """A response in force (已启动的应急响应).

    Attributes
    ----------
    jurisdiction_code : str
        The responding government's region code; ``"000000"`` for the national level.
    plan_id : str
    rank : int
        1 is the highest tier.
    """

    jurisdiction_code: str
    plan_id: str
    rank: int


@dataclass(frozen=True)
class Misalignment(_Plain):
    """A jurisdiction whose response is below what a covering response requires (衔接不到位).

    Attributes
    ----------
    jurisdiction_code : str
    kind : str
        ``"below_parent"`` (its response is a lower tier) or ``"no_response"`` (it has none).
    plan_id : str or None
        Its own response's plan, ``None`` for ``no_response``.
    rank : int or None
        Its own (highest) rank, ``None`` for ``no_response``.
    required_rank : int
        The tier required: the highest tier among the covering responses.
    parent_jurisdiction_code : str
        The covering jurisdiction whose response sets ``required_rank`` (the nearest on a tie).
    parent_plan_id : str
    message : str
        Explanation in Chinese.
    message_en : str
        The same in English.
    """

    jurisdiction_code: str
    kind: str
    plan_id: str | None
    rank: int | None
    required_rank: int
    parent_jurisdiction_code: str
    parent_plan_id: str
    message: str
    message_en: str


def misaligned_responses(active: Sequence[ActiveResponse],
                         ancestors_of: Callable[[str], Sequence[str]],
                         jurisdictions: Iterable[str] | None = None) -> list[Misalignment]:
    """Flag responses that break 上下级衔接.

    A jurisdiction is flagged when its active response is of a lower tier (numerically greater
    rank) than an active response of a jurisdiction covering it. The national jurisdiction
    ``"000000"`` covers every other one. When a jurisdiction has several active responses, its
    highest tier counts.

    Parameters
    ----------
    active : sequence of ActiveResponse
        Responses in force.
    ancestors_of : callable
        ``ancestors_of(code)`` gives the codes covering ``code``, e.g. ``gis.codes.ancestors``.
    jurisdictions : iterable of str, optional
        Jurisdictions that should respond. Those covered by an active response but with none of
        their own are flagged as ``"no_response"``.

    Returns
    -------
    list of Misalignment
        Sorted by jurisdiction code.
    """
    best: dict[str, ActiveResponse] = {}
    for response in active:
        held = best.get(response.jurisdiction_code)
        if held is None or response.rank < held.rank:
            best[response.jurisdiction_code] = response

    def requirement(code: str) -> ActiveResponse | None:
        covering = [] if code == NATIONAL else list(ancestors_of(code))
        if code != NATIONAL and NATIONAL not in covering:
            covering.append(NATIONAL)
        found = None
        for parent in covering:  # nearest first: a strict ``<`` keeps the nearest on a tie
            response = best.get(parent)
            if response is not None and (found is None or response.rank < found.rank):
                found = response
        return found

    flags: list[Misalignment] = []
    for code, response in best.items():
        parent = requirement(code)
        if parent is not None and response.rank > parent.rank:
            flags.append(Misalignment(
                jurisdiction_code=code, kind="below_parent", plan_id=response.plan_id,
                rank=response.rank, required_rank=parent.rank,
                parent_jurisdiction_code=parent.jurisdiction_code,
                parent_plan_id=parent.plan_id,
                message=(f"{code} 启动的是{rank_zh(response.rank)}响应（{response.plan_id}），"
                         f"低于上级 {parent.jurisdiction_code} 的{rank_zh(parent.rank)}响应"
                         f"（{parent.plan_id}）；按上下级衔接，应不低于{rank_zh(parent.rank)}。"),
                message_en=(f"{code} responds at rank {response.rank} ({response.plan_id}), "
                            f"below rank {parent.rank} of covering jurisdiction "
                            f"{parent.jurisdiction_code} ({parent.plan_id}); it should respond "
                            f"at rank {parent.rank} or higher.")))
    for code in dict.fromkeys(jurisdictions or ()):
        if code in best:
            continue
        parent = requirement(code)
        if parent is not None:
            flags.append(Misalignment(
                jurisdiction_code=code, kind="no_response", plan_id=None, rank=None,
                required_rank=parent.rank, parent_jurisdiction_code=parent.jurisdiction_code,
                parent_plan_id=parent.plan_id,
                message=(f"{code} 未启动响应，而上级 {parent.jurisdiction_code} 已启动"
                         f"{rank_zh(parent.rank)}响应（{parent.plan_id}）；按上下级衔接，"
                         f"应启动不低于{rank_zh(parent.rank)}的响应。"),
                message_en=(f"{code} has no response while covering jurisdiction "
                            f"{parent.jurisdiction_code} responds at rank {parent.rank} "
                            f"({parent.plan_id}); it should respond at rank {parent.rank} "
                            "or higher.")))
    flags.sort(key=lambda flag: flag.jurisdiction_code)
    return flags
