"""Undo and redo over finished results (issue 17, item 5).

Every palette change -- the number of colours, a lock, an edited colour, the colour space, the
dithering, a re-run, a compare pick -- ends in a finished run, so the history is the list of
finished results: undo shows the previous one again, with the controls and locks it was made
with, at once and without running anything.  Results hold their images, so the oldest are
dropped past ``BUDGET_BYTES`` (at least the current one is kept): 48 MB a state for a 12 MP
photo, so about ten of those, hundreds of web-sized ones.

No widgets: the workspace owns one and drives it; the tests drive it directly too.
"""

from __future__ import annotations

from dataclasses import dataclass

from palettelab.app.gui.image.worker import Result

#: memory the kept results may hold (their recoloured images and indices)
BUDGET_BYTES = 512 * 2**20


@dataclass(frozen=True)
class State:
    """A finished result and the colours locked when it was shown (an edited colour's lock is
    not in ``result.settings.locked``: the run started before the palette showed it)."""

    result: Result
    locks: frozenset[tuple[int, int, int]]
    member: int = 0  # the member of an image set the result shows


def _bytes(state: State) -> int:
    return int(state.result.image.nbytes + state.result.quantized.indices.nbytes)


def describe(before: State, after: State) -> str:
    """What changed from ``before`` to ``after``, for the Undo and Redo menu entries."""
    a, b = before.result.settings, after.result.settings
    if a.order != b.order:
        return f"Sort by {b.order.title()}"
    if after.result.remapped:
        return "Palette Change"
    changes: list[str] = []
    if a.n_colors != b.n_colors:
        changes.append(f"Colours {a.n_colors} to {b.n_colors}")
    for name, label in (("space", "Colour Space"), ("dither", "Dithering"),
                        ("dither_strength", "Strength"), ("random_state", "Seed"),
                        ("n_init", "Starts")):
        if getattr(a, name) != getattr(b, name):
            changes.append(label)
    if before.locks != after.locks:
        changes.append("Locks")
    return ", ".join(changes) if changes else "Re-run"


class History:
    """Finished results, oldest first, and which one is shown."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self._budget = budget
        self._states: list[State] = []
        self._index = -1

    def clear(self) -> None:
        self._states, self._index = [], -1

    def push(self, state: State) -> None:
        """A new result after the one shown: what was undone before it can no longer be
        redone."""
        del self._states[self._index + 1:]
        self._states.append(state)
        self._index = len(self._states) - 1
        while len(self._states) > 1 and sum(map(_bytes, self._states)) > self._budget:
            del self._states[0]
            self._index -= 1


    def shown(self) -> State | None:
        """The state shown now, or None before the first result."""
        return self._states[self._index] if self._index >= 0 else None

    def undo_text(self) -> str | None:
        """What Undo would take back, or None when there is nothing before."""
        if self._index < 1:
            return None
        return describe(self._states[self._index - 1], self._states[self._index])

    def redo_text(self) -> str | None:
        """What Redo would do again, or None when nothing was undone."""
        if self._index + 1 >= len(self._states):
            return None
        return describe(self._states[self._index], self._states[self._index + 1])

    def undo(self) -> State | None:
        """Step back: the state to show, or None."""
        if self._index < 1:
            return None
        self._index -= 1
        return self._states[self._index]

    def redo(self) -> State | None:
        """Step forward again: the state to show, or None."""
        if self._index + 1 >= len(self._states):
            return None
        self._index += 1
        return self._states[self._index]


