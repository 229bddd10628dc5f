"""The undo history keeps results within its memory budget, newest first to stay."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from palettelab.app.gui.image.history import History, State
from palettelab.app.gui.image.worker import Result, Settings


def _state(n_colors: int, pixels: int = 100, remapped: bool = False) -> State:
    q = SimpleNamespace(indices=np.zeros(pixels, np.uint8))
    result = Result(0, Settings(n_colors=n_colors), q, np.zeros((pixels, 3), np.uint8),
                    np.zeros((n_colors, 3)), 0.0, 0.0, 0.0, False, remapped=remapped)
    return State(result, frozenset())


def test_the_oldest_results_go_past_the_budget_but_the_shown_one_stays():
    history = History(budget=1000)
    for k in (2, 3, 4, 5):
        history.push(_state(k, pixels=100))  # 400 bytes each
    assert history.undo().result.settings.n_colors == 4
    assert history.undo() is None  # only two fit
    history.push(_state(9, pixels=10_000))  # larger than the budget alone: kept anyway
    assert history.shown().result.settings.n_colors == 9
    assert history.undo_text() is None and history.redo_text() is None


def test_menu_texts_name_the_change():
    history = History()
    history.push(_state(16))
    history.push(_state(8))
    history.push(_state(8, remapped=True))
    assert history.undo_text() == "Palette Change"
    history.undo()
    assert history.undo_text() == "Colours 16 to 8" and history.redo_text() == "Palette Change"
