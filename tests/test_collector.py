"""The garbage collector stays paused while a worker loads Numba or kernels
(``palettelab.app.gui.collector``): a full collection there froze the window for 70-114 ms."""

import gc
import threading

import pytest

from palettelab.app.gui import collector


@pytest.fixture(autouse=True)
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def test_no_collection_inside_and_new_objects_frozen_after():
    frozen = gc.get_freeze_count()
    with collector.paused():
        assert not gc.isenabled()
        kept = [[i] for i in range(10_000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_overlapping_pauses_of_two_threads_end_with_the_last():
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with collector.paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with collector.paused():
        pass
    assert not gc.isenabled()  # the other thread is still loading
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_a_worker_warms_its_kernels_with_the_collector_paused(qtbot):
    from palettelab.app.gui.worker_host import WorkerHost

    seen = []
    host = WorkerHost(lambda: seen.append(gc.isenabled()))
    host.warm_up()
    assert seen == [False]
    assert gc.isenabled()
