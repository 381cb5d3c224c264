"""Guarded state machines (状态机) for events, dispatches and relief cycles.

A machine is data: ``{(state, action): next_state}`` plus optional guards. ``fire`` checks the
transition and every guard and raises :class:`~app.errors.Conflict` (409) naming the allowed
actions, so a view never flips a status field by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .errors import Conflict

Guard = Callable[[object], str | None]  # returns a reason to refuse, or None


@dataclass(frozen=True)
class StateMachine:
    name: str
    transitions: dict[tuple[str, str], str]
    labels: dict[str, str] = field(default_factory=dict)
    guards: dict[str, tuple[Guard, ...]] = field(default_factory=dict)

    def allowed(self, state: str) -> list[str]:
        return [action for (src, action) in self.transitions if src == state]

    def next_state(self, state: str, action: str) -> str:
        try:
            return self.transitions[(state, action)]
        except KeyError:
            allowed = "、".join(self.allowed(state)) or "无"
            raise Conflict(f"{self.name}处于「{self.labels.get(state, state)}」状态，不能执行「{action}」"
                           f"（可执行：{allowed}）。") from None

    def fire(self, obj, action: str, attr: str = "status") -> tuple[str, str]:
        """Move ``obj`` by ``action``; return ``(before, after)``."""
        before = getattr(obj, attr)
        after = self.next_state(before, action)
        for guard in self.guards.get(action, ()):
            reason = guard(obj)
            if reason:
                raise Conflict(reason)
        setattr(obj, attr, after)
        return before, after
