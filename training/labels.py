"""What users read about an evaluation: metric and ranker legends, and display names of the timing
phases, shared by the CLI's metrics table and the trainer's report (one wording, one place).

The keys of ``metrics.json`` stay as they are (scripts read them); only what is printed or shown
goes through here.
"""
from __future__ import annotations

#: The metrics of the CLI table, in its order, with what each one means.
METRICS = (
    ("precision@10", "share of the top 10 that the resident went on to use (referred or deeper) in the holdout"),
    ("recall@10", "share of the resident's holdout services found in the top 10"),
    ("ndcg@10", "like recall@10, but a hit counts more the higher it is ranked (the promotion metric)"),
    ("map@10", "mean average precision over the top 10: rewards putting all hits first"),
    ("auc", "chance that a used service is ranked above an unused one, over the whole list"),
    ("coverage@10", "share of the catalogue that appears in someone's top 10 (variety, not accuracy)"),
    ("need_coverage@5", "share of (resident, declared need) pairs whose top 5 holds a service for that need"),
)

RANKERS = {
    "model": "the trained model (collaborative + profile + blend, after eligibility)",
    "popularity": "baseline: most used services first, after eligibility",
    "need_match": "baseline: eligible services of the resident's declared needs, most used first",
}

GROUPS = {
    "warm": "warm residents: those with history in training, scored on their later (holdout) use",
    "cold": "cold residents: held out whole, ranked from their profile alone (like a walk-in)",
}

#: Timing phases of ``servicematch train`` -> what they are called where people read them.
TIMING = {
    "load": "loading and validating the data",
    "features": "building features",
    "fit_lightfm_fit": "fitting the collaborative model",
    "fit_warm_search": "choosing the blend for known residents",
    "fit_cold_search": "choosing the blend for new residents",
    "fit_maps": "fitting the profile-to-embedding map",
    "fit_lightfm_past": "fitting the collaborative model on the past (to train the ranker)",
    "fit_generators_past": "finding candidates in the past",
    "fit_ranker": "training the second-stage ranker",
    "fit_lightfm_all": "fitting the collaborative model again on all the data",
    "fit_generators": "building the candidate generators",
    "fit_total": "fitting, all steps",
    "evaluate": "evaluating the model and baselines",
    "rescore_current": "re-scoring the current model on the same holdout",
    "compare_current": "comparing with the current model on newer data",
    "total": "total",
}


def timing_label(key: str) -> str:
    """A phase's display name; an unknown key is shown as words, never as the internal name."""
    if key in TIMING:
        return TIMING[key]
    words = key.removeprefix("fit_").replace("_", " ").strip()
    return f"fitting: {words}" if key.startswith("fit_") else words


def metrics_legend() -> str:
    """The legend printed under the CLI's metrics table."""
    width = max(len(name) for name, _ in METRICS)
    lines = ["legend:"]
    lines += [f"  {name:<{width}}  {text}" for name, text in METRICS]
    lines += [f"  {name:<{width}}  {text}" for name, text in RANKERS.items()]
    lines += [f"  {name:<{width}}  {text}" for name, text in GROUPS.items()]
    return "\n".join(lines)
