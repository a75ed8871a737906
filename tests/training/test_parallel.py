"""Validation and evaluation rank their batches on several threads: the figures must not depend on it."""
from __future__ import annotations

import pandas as pd

from recommender import ranking
from training import fit, pipeline, scenarios
from training.parallel import map_in_order


def test_results_come_back_in_order_whatever_finishes_first():
    import time

    def slow_first(i):
        time.sleep(0.05 if i == 0 else 0.0)
        return i * i

    assert list(map_in_order(slow_first, range(7), threads=3)) == [i * i for i in range(7)]
    assert list(map_in_order(slow_first, [], threads=2)) == []


def test_two_threads_choose_the_same_ranker_and_measure_the_same_figures(tmp_path, monkeypatch):
    """A long-tail city trained once; the ranker choice and the holdout evaluation are each run on
    one thread and on two, with the sampled top-k selection active as on 50,000 services."""
    monkeypatch.setattr(ranking, "SAMPLE", 64)
    scenarios.generate("long_tail", tmp_path / "city", residents=700, services=2_000, seed=11)
    seen = {}
    real_choose, real_evaluate = fit.choose_ranker, pipeline.evaluate_holdout

    def choose_both(*args, threads, **kw):
        one, two = real_choose(*args, threads=1, **kw), real_choose(*args, threads=2, **kw)
        assert one.weights == two.weights and one.info == two.info
        seen["ranker"] = one
        return two

    def evaluate_both(*args, threads, **kw):
        one, two = real_evaluate(*args, threads=1, **kw), real_evaluate(*args, threads=2, **kw)
        pd.testing.assert_frame_equal(one.pop("per_resident"), two["per_resident"])
        assert one == {k: v for k, v in two.items() if k != "per_resident"}
        seen["evaluation"] = one
        return two

    monkeypatch.setattr(fit, "choose_ranker", choose_both)
    monkeypatch.setattr(pipeline, "evaluate_holdout", evaluate_both)
    pipeline.train(tmp_path / "city", tmp_path / "models", epochs=3, eval_residents=300, quiet=True, num_threads=2)
    assert seen["ranker"].info["segments"]
    assert seen["evaluation"]["counts"]["warm_residents_evaluated"] > 50
