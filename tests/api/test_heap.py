"""The served model stays out of Python's full garbage collections (api.heap), and a model replaced by
a reload is freed all the same."""
from __future__ import annotations

import gc
import weakref

from fastapi.testclient import TestClient

from api.app import create_app
from recommender import artifacts


def _collected(obj) -> bool:
    """Whether full collections walk ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_the_served_model_is_frozen_and_a_replaced_one_is_freed(models_dir, trained, api_keys):
    app = create_app(models_dir, keys_file=api_keys["file"], refresh_interval=60)  # polled by hand
    with TestClient(app) as client:
        ctx = app.state.ctx
        # the model and the app are out of the full collections (each walked them all: 110-155 ms)
        assert gc.get_freeze_count() > 10_000
        assert not _collected(ctx.holder.current.rec.catalog.records)
        old = weakref.ref(ctx.holder.current.rec)
        assert client.get("/healthz").status_code == 200

        artifacts.set_current(models_dir, trained["v2"])
        assert ctx.refresher.poll()
        assert ctx.holder.current.version == trained["v2"]
        assert _collected(ctx.holder.current.rec.catalog.records)  # loaded after the freeze
        ctx.refresher.poll()  # settles: collects, then freezes the new model
        assert old() is None, "the replaced model was kept"
        assert not _collected(ctx.holder.current.rec.catalog.records)
    assert gc.get_freeze_count() == 0  # a stopped app hands its objects back to the collector
