"""The inference entry point: load a trained model and recommend services for a resident.

    rec = Recommender.load("models/")          # a models root (follows models/CURRENT) or a version folder
    rec.version, rec.trained_at, rec.metrics   # str, ISO str, dict (the model's metrics.json)
    rec.service_ids                            # list[str] of every service in the catalogue
    rec.service(service_id) -> dict | None     # the catalogue row (contract fields) for one service
    rec.resident_profile(resident_id) -> dict | None   # the training-time profile of a known resident
    rec.recommend(
        resident_id: str | None = None,        # a resident the model knows (warm) ...
        profile: dict | None = None,           # ... and/or an inline profile (contract resident fields)
        k: int = 10,
        needs: list[str] | None = None,        # overrides the profile's declared needs
        categories: list[str] | None = None,   # only services in these categories (and descendants)
        exclude_service_ids: list[str] = (),
        near: tuple[float, float, float] | None = None,   # (lat, lon, max_km)
        include_unknown_eligibility: bool = True,
        history: list[tuple[str, str]] = (),   # (service_id, event) recorded after training
        overrides: dict[str, dict] | None = None,   # service_id -> {"status", "capacity"}
        explain: bool = True,
        score_penalty: dict[str, float] | None = None,   # service_id -> subtracted before ranking
    ) -> RecommendationResult                  # recommender.results

Raises ``KeyError`` for an unknown ``resident_id`` given without a profile and ``ValueError`` for a
bad field (the message names the field). The object is read-only after loading, so one instance
serves concurrent requests.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import artifacts
from .catalog import ServiceCatalog
from .columns import EncodedTable
from .eligibility import Outcome, checks_for, evaluate
from .eligibility.checks import CatalogColumns
from .eligibility.extract import description_part, read_deferred
from .explain import Explainer, _lang
from .features import ResidentFeaturizer
from .model import HybridModel
from .need_text import NeedMatcher
from .profile import Profile
from .ranker import Ranker, segment_of
from .ranking import apply_floor, candidate_scores, listing_floor, rank, rank_rows_at
from .results import NeedAnswer, RecommendationResult, Suggestion
from .schema import split_list
from .signals import Batch, Places, Row, Signals, combine, compute as compute_signals, local_fit, wanted

MAX_K = 50
_LABELS = {o: o.label for o in Outcome}


@dataclass
class _Query:
    resident_id: str | None
    row: int | None          # the resident's row in the model's table, if known
    profile: Profile
    needs: list[str]
    #: category code -> the free text it was matched from
    said: dict
    #: free text -> what of it was not understood (and spelling suggestions)
    unread: dict = None


class Recommender:
    def __init__(self, *, version: str, meta: dict, metrics: dict, catalog: ServiceCatalog,
                 featurizer: ResidentFeaturizer, model: HybridModel, resident_ids: np.ndarray,
                 warm_rows: np.ndarray, residents: EncodedTable,
                 used: tuple[np.ndarray, np.ndarray], declined: tuple[np.ndarray, np.ndarray],
                 history: tuple[np.ndarray, np.ndarray]):
        self.version = version
        self.meta = meta
        self.metrics = metrics
        self.trained_at = meta.get("trained_at", "")
        self.catalog = catalog
        self.featurizer = featurizer
        self.model = model
        self._resident_index = pd.Index(resident_ids)
        self._warm_rows = warm_rows
        self._residents = residents
        # each stored column's arrays, so a known resident's profile is read without table lookups
        self._resident_columns = []
        for col in residents.columns:
            kind = residents.kind(col)
            if kind in ("num", "cat"):
                self._resident_columns.append((col, kind, residents.array(col), residents.vocab(col)))
            else:
                self._resident_columns.append((col, kind, residents.csr(col), residents.vocab(col)))
        self._used = used
        self._declined = declined
        self._history = history
        self._explainer = Explainer(catalog, featurizer, model)
        # per-model constants, worked out once here rather than on every request
        self._places = Places(catalog.latitude, catalog.longitude)
        self._checks = (catalog.listing_rules, checks_for(catalog))
        self._columns = CatalogColumns(catalog)
        #: service -> its suggestion fields from the listing alone (_listing), as services are shown
        self._refer: dict[int, dict] = {}
        model.dense("neighbors"), model.dense("segments")
        # free-text needs ("can't pay rent this month") are matched to the categories services use
        # (service terms only: a 211 taxonomy's "situation" terms describe people, not help)
        used_terms = [t for t in catalog.term_index
                      if catalog.answers(t).any() and catalog.taxonomy.kinds.get(t) != "situation"]
        self._need_matcher = NeedMatcher().fit(catalog.taxonomy, codes=used_terms) if used_terms else None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path) -> "Recommender":
        folder = artifacts.resolve(Path(path))
        arrays, meta, catalog_json, metrics = artifacts.load_version(folder)
        try:
            return cls.from_parts(arrays, meta, catalog_json, metrics)
        except (KeyError, ValueError) as e:
            raise artifacts.ModelFileError(f"{folder}: {e}") from None

    @classmethod
    def from_parts(cls, arrays: dict[str, np.ndarray], meta: dict, catalog_json: dict,
                   metrics: dict, catalog: ServiceCatalog | None = None) -> "Recommender":
        """Assemble from the parts of a model folder (also how training evaluates before saving,
        passing the catalogue it already built)."""
        catalog = catalog if catalog is not None else ServiceCatalog.from_json(catalog_json)
        featurizer = ResidentFeaturizer.from_json(meta["featurizer"], catalog.taxonomy)
        model = HybridModel.from_arrays(arrays, meta["model"])
        n_services = len(catalog)
        if model.cf.item_embeddings.shape[0] != n_services:
            raise ValueError(f"{model.cf.item_embeddings.shape[0]} service embeddings for {n_services} catalogue services")
        if model.cf.feature_map.shape[0] != len(featurizer.feature_names_):
            raise ValueError("feature map does not match the feature vocabulary")
        ids = arrays["resident_ids"]
        warm_rows = arrays["warm_rows"]
        if warm_rows.shape != ids.shape or (len(warm_rows) and warm_rows.max() >= model.cf.user_embeddings.shape[0]):
            raise ValueError("resident rows do not match the embeddings")
        residents = EncodedTable(arrays, meta["residents"], prefix="resident.")
        used = (arrays["used.indptr"], arrays["used.indices"])
        declined = (arrays["declined.indptr"], arrays["declined.indices"])
        history = (arrays["history.indptr"], arrays["history.indices"])
        for name, (indptr, indices) in (("used", used), ("declined", declined), ("history", history)):
            if len(indptr) != len(ids) + 1 or (len(indices) and indices.max() >= n_services):
                raise ValueError(f"{name} history does not match residents and services")
        return cls(version=meta["version"], meta=meta, metrics=metrics, catalog=catalog, featurizer=featurizer,
                   model=model, resident_ids=ids, warm_rows=warm_rows, residents=residents,
                   used=used, declined=declined, history=history)

    # ------------------------------------------------------------------ lookups
    @property
    def service_ids(self) -> list[str]:
        return self.catalog.ids

    def service(self, service_id: str) -> dict | None:
        i = self.catalog.index.get(service_id)
        return None if i is None else dict(self.catalog.records[i])

    def _row(self, resident_id: str) -> int | None:
        try:
            loc = self._resident_index.get_loc(resident_id)
        except KeyError:
            return None
        return int(loc) if isinstance(loc, (int, np.integer)) else None

    def knows(self, resident_id: str) -> bool:
        return self._row(resident_id) is not None

    def has_history(self, resident_id: str) -> bool:
        """Whether training saw this resident use anything (their own embedding and history)."""
        row = self._row(resident_id)
        return row is not None and int(self._warm_rows[row]) >= 0

    def resident_profile(self, resident_id: str) -> dict | None:
        row = self._row(resident_id)
        if row is None:
            return None
        out = {}
        for col, kind, data, vocab in self._resident_columns:  # EncodedTable.value, missing left out
            if kind == "num":
                v = float(data[row])
                if v == v:
                    out[col] = v
            elif kind == "cat":
                code = int(data[row])
                if code >= 0:
                    out[col] = vocab[code]
            else:
                indptr, indices = data
                if indptr[row + 1] > indptr[row]:
                    out[col] = [vocab[i] for i in indices[indptr[row]:indptr[row + 1]].tolist()]
        return out

    def training_history(self, resident_id: str) -> list[str]:
        row = self._row(resident_id)
        if row is None:
            return []
        indptr, indices = self._used
        return [self.catalog.ids[j] for j in indices[indptr[row]:indptr[row + 1]]]

    def _recorded(self, history) -> sp.csr_matrix | None:
        """Services a resident used since training (events other than declined), as a 1 x services row."""
        cols = set()
        for item in history or ():
            sid, event = (item, "enrolled") if isinstance(item, str) else (item[0], item[1])
            j = self.catalog.index.get(str(sid))
            if j is not None and event != "declined":
                cols.add(j)
        if not cols:
            return None
        cols = sorted(cols)
        return sp.csr_matrix((np.ones(len(cols), dtype=np.float32), ([0] * len(cols), cols)),
                             shape=(1, len(self.catalog)))

    # ------------------------------------------------------------------ ranking
    def _query(self, resident_id, profile, needs) -> _Query:
        row = None
        merged: dict = {}
        if resident_id is not None:
            resident_id = str(resident_id)
            row = self._row(resident_id)
            if row is None and profile is None:
                raise KeyError(f"resident_id: {resident_id!r} is not known to model {self.version}")
            if row is not None:
                merged.update(self.resident_profile(resident_id) or {})
        if profile is not None:
            if not isinstance(profile, dict):
                raise ValueError("profile: expected an object of resident fields")
            merged.update(profile)
        if resident_id is None and profile is None:
            raise ValueError("resident_id or profile: give at least one")
        # checked like a form: a field the contract, the rules and the model do not know is refused
        p = Profile.from_dict(merged, extra_columns=self.featurizer.extra_values_)
        if needs is not None:
            if isinstance(needs, str) or not all(isinstance(n, str) for n in needs):
                raise ValueError("needs: expected a list of strings")
            p.needs = split_list(needs)
        # free text may state several needs ("lost my job and can't pay rent", "我失业了，交不起房租"):
        # each becomes a code, keyed back to the words it came from; what was not understood is kept
        codes: list[str] = []
        said: dict = {}
        unread: dict[str, str] = {}
        for text in p.needs:
            if text in self.catalog.term_index or self._need_matcher is None:
                codes.append(text)
                continue
            parsed = self._need_matcher.parse(text)
            for n in parsed.needs:
                codes.append(n.code)
                said.setdefault(n.code, n.words if len(parsed.needs) > 1 or parsed.message() else text)
            if not parsed.needs:
                codes.append(text)
            elif parsed.message():
                unread[text] = parsed.message()
        p.needs = list(dict.fromkeys(codes))
        return _Query(resident_id, row, p, p.needs, said, unread)

    # ------------------------------------------------------------------ the one scoring kernel
    def _batch(self, rows: np.ndarray, profiles: list[Profile], extra_history=None,
               outcomes: np.ndarray | None = None) -> Batch:
        """What the generators need of n residents: ``rows`` in the model's resident table (-1 for
        a resident it does not know), their profiles, and (n x services) history recorded since."""
        rows = np.asarray(rows, dtype=np.int64)
        n, m = len(rows), len(self.catalog)
        if n == 1:
            warm_rows = np.array([self._warm_rows[rows[0]] if rows[0] >= 0 else -1], dtype=self._warm_rows.dtype)
        else:
            warm_rows = np.where(rows >= 0, self._warm_rows[np.maximum(rows, 0)], -1) if n else rows
        # one CSR built from index arrays: a request is a single row, and each sparse operation on the
        # way (selection products, comparisons, conversions) costs tens of microseconds
        indptr, indices = self._history
        extra = None if extra_history is None else sp.csr_matrix(extra_history)
        cols, ptr = [], [0]
        for r, row in enumerate(rows):
            own = indices[indptr[row]:indptr[row + 1]] if row >= 0 else ()
            more = extra.indices[extra.indptr[r]:extra.indptr[r + 1]] if extra is not None else ()
            c = np.union1d(own, more) if len(more) else np.asarray(own, dtype=np.int64)
            cols.append(c)
            ptr.append(ptr[-1] + len(c))
        need = np.zeros((n, m), dtype=bool)
        for r, p in enumerate(profiles):
            for code in p.needs:
                need[r] |= self.catalog.answers(code)
        coords = np.array([[np.nan if p.latitude is None else p.latitude,
                            np.nan if p.longitude is None else p.longitude] for p in profiles],
                          dtype=np.float64).reshape(n, 2)
        if n == 1:  # a request: its two rows as plain index arrays (signals.Row)
            hist = Row(cols[0], m)
            X = Row(self.featurizer.indices(profiles[0]), len(self.featurizer.vocabulary_))
        else:
            hist = sp.csr_matrix((np.ones(ptr[-1], dtype=np.float32),
                                  np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, dtype=np.int64),
                                  np.array(ptr, dtype=np.int64)), shape=(n, m))
            X = self.featurizer._matrix((self.featurizer.tokens(p) for p in profiles), n)
        area, speaks = local_fit(self.catalog, profiles)
        return Batch(warm_rows=warm_rows, X=X, history=hist, need=need, coords=coords,
                     unknown=None if outcomes is None else outcomes == Outcome.UNKNOWN, area=area, speaks=speaks)

    def _ranker(self, ranker) -> Ranker:
        if ranker is None:
            return self.model.ranker
        if isinstance(ranker, Ranker):
            return ranker
        return Ranker.baseline(ranker)

    def _signals(self, batch: Batch, ranker: Ranker) -> Signals:
        return compute_signals(self.model, batch, wanted(ranker, batch), self.catalog.latitude,
                               self.catalog.longitude, self._places)

    def rank_batch(self, resident_ids: list[str | None], profiles: list[Profile], *, k: int = 10,
                   ranker=None, exclude: sp.spmatrix | None = None, extra_history: sp.spmatrix | None = None,
                   include_unknown_eligibility: bool = True, outcomes: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k lists for many residents at once, exactly as :meth:`recommend` ranks one: (n x k) service
        indices (-1 past a short list) and the (n x services) candidate scores behind them.

        ``ranker``: None for the served ranker, ``"popularity"`` or ``"need_match"`` for a baseline, or a
        :class:`~recommender.ranker.Ranker`. ``exclude``: services not to list (besides the resident's
        known uses and declines). ``outcomes``: :meth:`eligibility` of the profiles, when the caller
        ranks the same residents several times.
        """
        (lists, s), = self.rank_batch_many(resident_ids, profiles, rankers=(ranker,), ks=(k,), exclude=exclude,
                                          extra_history=extra_history, outcomes=outcomes,
                                          include_unknown_eligibility=include_unknown_eligibility)
        return lists[k], s

    def rank_batch_many(self, resident_ids: list[str | None], profiles: list[Profile], *, rankers=(None,),
                        ks=(10,), exclude: sp.spmatrix | None = None, extra_history: sp.spmatrix | None = None,
                        include_unknown_eligibility: bool = True, outcomes: np.ndarray | None = None):
        """:meth:`rank_batch` for several rankers and list lengths over the same residents: the batch,
        the signals any of the rankers weighs, the exclusions and eligibility are worked out once.
        Yields, per ranker in order, ({k: (n x k) lists}, candidate scores); each ranker's scores are
        computed when its turn comes (a batch over a large catalogue holds one at a time). Evaluation
        calls this.
        """
        found = [None if r is None else self._row(str(r)) for r in resident_ids]
        rows = np.array([-1 if f is None else f for f in found], dtype=np.int64)
        outcomes = self.eligibility(profiles) if outcomes is None else outcomes
        batch = self._batch(rows, profiles, extra_history, outcomes)
        rankers = [self._ranker(r) for r in rankers]
        signals = compute_signals(self.model, batch, set().union(*(wanted(r, batch) for r in rankers)),
                                  self.catalog.latitude, self.catalog.longitude, self._places)
        excluded = self._known_mask(rows)
        if exclude is not None:
            excluded |= sp.csr_matrix(exclude).toarray().astype(bool)
        floor = listing_floor(outcomes, excluded, include_unknown_eligibility)
        del excluded
        masks = [{need: self.catalog.answers(need) for need in p.needs} for p in profiles]
        for r in rankers:
            s = apply_floor(combine(signals, r, batch), floor, copy=False)
            yield rank_rows_at(s, ks, masks), s

    def eligibility(self, profiles: list[Profile], overrides: dict[str, dict] | None = None) -> np.ndarray:
        """(n x services) eligibility outcomes of the profiles (``recommender.eligibility``), with the
        API's status/capacity ``overrides`` when given."""
        out = np.zeros((len(profiles), len(self.catalog)), dtype=np.int8)
        for n, p in enumerate(profiles):
            out[n] = evaluate(self.catalog, p, overrides=overrides, checks=self._eligibility_checks(),
                              columns=self._columns).outcome
        return out

    def _eligibility_checks(self) -> tuple:
        """The catalogue's checks, built once (again only if its listing rules are replaced)."""
        rules, checks = self._checks
        if rules is not self.catalog.listing_rules:
            self._checks = (self.catalog.listing_rules, checks := checks_for(self.catalog))
            self._refer = {}  # a listing's referral rule is read from its rules
        return checks

    def _listing(self, i: int) -> dict:
        """A suggestion's fields that come from the listing alone (id, name, organization and
        :func:`before_you_refer`), worked out once per service (again if the listing rules change)."""
        out = self._refer.get(i)
        if out is None:
            rec = self.catalog.records[i]
            out = self._refer[i] = {"service_id": self.catalog.ids[i], "name": rec.get("name") or "",
                                    "organization": rec.get("organization") or None,
                                    **before_you_refer(self.catalog, i)}
        return out

    def _known_mask(self, rows: np.ndarray) -> np.ndarray:
        """(n x services) True where a resident used or declined the service in training."""
        out = np.zeros((len(rows), len(self.catalog)), dtype=bool)
        for n, row in enumerate(rows):
            if row >= 0:
                for indptr, indices in (self._used, self._declined):
                    out[n, indices[indptr[row]:indptr[row + 1]]] = True
        return out

    def recommend(self, resident_id=None, profile=None, *, k: int = 10, needs=None, categories=None,
                  exclude_service_ids=(), near=None, include_unknown_eligibility: bool = True,
                  history=(), overrides=None, explain: bool = True, lang: str = "en",
                  score_penalty: dict[str, float] | None = None) -> RecommendationResult:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
            raise ValueError(f"k: must be an integer from 1 to {MAX_K}")
        q = self._query(resident_id, profile, needs)
        cat = self.catalog
        n = len(cat)
        elig = evaluate(cat, q.profile, overrides=overrides, checks=self._eligibility_checks(), columns=self._columns)
        extra = self._recorded(history)
        batch = self._batch(np.array([-1 if q.row is None else q.row]), [q.profile], extra, elig.outcome[None, :])
        ranker = self.model.ranker
        signals = self._signals(batch, ranker)
        blended = combine(signals, ranker, batch)[0]
        segment = segment_of(batch.history.nnz)
        warm = bool(batch.warm_rows[0] >= 0)
        hist = batch.history.indices

        excluded = self._known_mask(np.array([-1 if q.row is None else q.row]))[0]
        for item in history or ():
            sid, event = (item[0], item[1]) if not isinstance(item, str) else (item, "enrolled")
            j = cat.index.get(str(sid))
            if j is not None and event != "viewed":  # a view is not use: the service may still be suggested
                excluded[j] = True
        for sid in exclude_service_ids or ():
            j = cat.index.get(str(sid))
            if j is not None:
                excluded[j] = True
        if categories:
            allowed = np.zeros(n, dtype=bool)
            for c in split_list(categories):
                allowed |= cat.answers(c)
            excluded |= ~allowed
        distances = None
        if near is not None:
            lat, lon, max_km = _near(near)
            distances = cat.distances_km(lat, lon)
            with np.errstate(invalid="ignore"):
                excluded |= ~(distances <= max_km)  # services with no place are not "near"

        ranked_by = blended
        if score_penalty:  # e.g. a nearly full service's shadow price: changes the order, not the score shown
            ranked_by = blended.copy()
            for sid, amount in score_penalty.items():
                j = cat.index.get(str(sid))
                if j is not None:
                    ranked_by[j] -= float(amount)
        s = candidate_scores(ranked_by, elig.outcome, excluded, include_unknown_eligibility)
        need_masks = {need: cat.answers(need) for need in q.needs}
        ranked = rank(s, int(k), need_masks)

        explained = (self._explainer.contributions(ranked.indices, q.profile, signals, ranker.for_segment(segment),
                                                   warm, need_masks, hist, features=batch.X.indices)
                     if explain else [[] for _ in ranked.indices])
        shown = ranked.indices
        if distances is not None:
            km = distances[shown].tolist()
        elif q.profile.latitude is not None and shown:  # distance from home, only for the services shown
            if signals.km is not None:  # worked out for the nearness signal already
                at = self._places.position[shown]
                km = np.where(at >= 0, signals.km[at], np.nan).tolist()
            else:
                km = cat.distances_km(q.profile.latitude, q.profile.longitude, np.asarray(shown)).tolist()
        else:
            km = [math.nan] * len(shown)
        scores = blended[shown].tolist()
        capacity = elig.ctx.capacity[shown].tolist()
        # each need's paths once; which shown services answer it is in the ranking already
        answering = [(cat.taxonomy.path(need), cat.taxonomy.path_in(need, lang), set(ranked.need_answers.get(need, ())))
                     for need in need_masks]
        templates = _lang(lang) if explain else None
        items = []
        for pos, i in enumerate(shown):
            rec = cat.records[i]
            status, reasons, questions = elig.details(i)
            answered = [path for path, _, who in answering if i in who]
            said = [words for _, words, who in answering if i in who]
            d = None if math.isnan(km[pos]) else round(km[pos], 2)
            cap = capacity[pos]
            contributions = explained[pos]
            text = (self._explainer._sentence(templates, lang, rec, said, status, reasons, questions, contributions, d)
                    if explain else "")
            items.append(Suggestion(
                rank=pos + 1, score=round(scores[pos], 4), needs=answered, eligibility=_LABELS[status],
                reasons=reasons, questions=questions, distance_km=d,
                capacity=None if math.isnan(cap) else int(cap), explanation=text, contributions=contributions,
                **self._listing(i)))
        need_answers = {}
        for need in q.needs:
            ids = [cat.ids[i] for i in ranked.need_answers.get(need, [])]
            reason = None if ids else ranked.unanswerable.get(need)
            if need not in cat.term_index:
                reason = "no category of the catalogue matches this need"
                parsed = self._need_matcher.parse(need) if self._need_matcher is not None else None
                if parsed is not None and parsed.message():
                    reason = f"{reason} ({parsed.message()})"
            key = q.said.get(need, need)
            need_answers[key] = NeedAnswer(need=need, service_ids=ids, reason=reason,
                                           path=cat.taxonomy.path(need) if need in cat.term_index else None)
        for text, message in (q.unread or {}).items():
            need_answers.setdefault(text, NeedAnswer(need="", service_ids=[], reason=message))
        return RecommendationResult(model_version=self.version, resident_id=q.resident_id,
                                    mode="warm" if warm else "cold", items=items, needs=need_answers)


_APPLY_PART = description_part("APPLICATION|HOW TO APPLY|TO APPLY|INTAKE")
_REFERRAL_WORDS = re.compile(r"\breferr(?:al|ed)\b[^.;]{0,40}\b(?:required|needed|necessary|only)\b|"
                             r"\bby\s+referral\b|\bmust\s+be\s+referred\b|\brequires?\s+(?:a\s+)?referral\b", re.I)


def before_you_refer(cat: ServiceCatalog, i: int) -> dict:
    """What the caseworker must tell the resident about service ``i``, where the listing says it."""
    rec = cat.records[i]

    def text(col):
        value = rec.get(col)
        return str(value).strip() or None if value is not None else None

    # "See notes." defers to the description's application or intake part
    how = read_deferred(rec.get("application_process"), rec.get("description"), _APPLY_PART).strip() or None
    rules = cat.listing_rules.rules[i] if cat.listing_rules is not None else []
    referral = True if any(r.kind == "referral" for r in rules) or (how and _REFERRAL_WORDS.search(how)) else None
    return {"how_to_apply": how, "referral_required": referral, "documents": text("required_documents"),
            "fees": text("fees"), "hours": text("hours"), "wait_time": text("wait_time")}


def _near(near) -> tuple[float, float, float]:
    if isinstance(near, dict):
        try:
            near = (near["lat"], near["lon"], near["max_km"])
        except KeyError as e:
            raise ValueError(f"near: missing {e.args[0]}") from None
    try:
        lat, lon, max_km = (float(v) for v in near)
    except (TypeError, ValueError):
        raise ValueError("near: expected lat, lon and max_km as numbers") from None
    if not -90 <= lat <= 90:
        raise ValueError("near.lat: must be within -90..90")
    if not -180 <= lon <= 180:
        raise ValueError("near.lon: must be within -180..180")
    if not (max_km > 0 and math.isfinite(max_km)):
        raise ValueError("near.max_km: must be a positive number")
    return lat, lon, max_km


def load(path: str | Path) -> Recommender:
    """Load a model version (or the current one under a models root)."""
    return Recommender.load(path)
