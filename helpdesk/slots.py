"""One implementation that a lower layer calls and an upper layer provides.

Helpdesk core may not import telephony or kb (docs/architecture.md, "Layers"), yet some core
features need what they own: the SMS outbox, call counts, the call floor. Core declares a `Slot`
for each with the interface it needs; `create_app` fills it (through each package's
`init_app`). The same holds between two core features where the lower one must call the upper
one (a ticket's change telling the SLA clocks): no import cycle between features. The last app
created in a process fills it, as each process creates one.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    def __init__(self, what: str) -> None:
        self._what = what
        self._filled: T | None = None

    def fill(self, implementation: T) -> None:
        self._filled = implementation

    @property
    def filled(self) -> bool:
        return self._filled is not None

    def get(self) -> T:
        """The implementation; a clear error where no app filled the slot (a script that uses
        core without creating an app)."""
        if self._filled is None:
            raise RuntimeError(f"no {self._what} registered: create the app first")
        return self._filled
