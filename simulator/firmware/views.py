"""Full-screen utilities (ORCA, RBSU, boot menu) as a stack of views driven by keys.

A view draws itself (:meth:`View.render`) and answers a key (:meth:`View.handle`) with one of:
``None`` (stay), :class:`Push` (open a sub-view), :class:`Pop` (close this view, giving a value to
the one below) or :class:`Exit` (leave the utility with a value).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from simulator.firmware.console import Console
from textconsole.screen import Screen


@dataclass
class Push:
    view: View


@dataclass
class Pop:
    value: Any = None


@dataclass
class Exit:
    value: Any = None


Action = Push | Pop | Exit | None


class View(ABC):
    @abstractmethod
    def render(self) -> Screen: ...

    @abstractmethod
    def handle(self, key: str) -> Action: ...

    def resume(self, value: Any) -> Action:
        """Called when a view pushed by this one pops with ``value``."""
        return None


def run_views(console: Console, root: View) -> Any:
    """Run a utility until a view exits (or the root view pops); return the value it gave."""
    stack = [root]
    while True:
        console.show(stack[-1].render())
        key = console.get_key()
        if key is None:
            continue  # only a timed wait ends without a key; this one waits for ever
        action = stack[-1].handle(key)
        while action is not None:
            if isinstance(action, Push):
                stack.append(action.view)
                action = None
            elif isinstance(action, Pop):
                stack.pop()
                if not stack:
                    return action.value
                action = stack[-1].resume(action.value)
            else:
                return action.value
