"""Map what a resident says ("can't pay rent this month") to terms of the need/service taxonomy.

A caseworker types the resident's words; ``NeedMatcher.match`` answers with the closest taxonomy
terms, best first, or nothing when no term is close (a wrong guess would send the resident to the
wrong door, an empty answer makes the caseworker pick by hand).

How it works, and why:

* Every term is indexed by its own name and by the names of its ancestors (its path): "Help Pay for
  Utilities" under "Housing > Help Pay for Housing" is found by "housing" words too, but its own name
  weighs more (``name_weight``), so a parent outranks its children on the parent's own words.
* Residents rarely use the taxonomy's words ("evicted" vs "Help Pay for Housing"). A small built-in
  lexicon maps everyday phrasings (English, and some Spanish) to generic concept words that taxonomies
  use in term names ("rent" -> housing, rent, pay). The lexicon only expands the query text; it names
  no codes, so the same matcher works on the generator's taxonomy, an imported 211 taxonomy, or any
  other whose names are English.
* The lexicon's words also reach derived forms found in the fitted term names ("rent" -> "Rental
  Assistance", "pay" -> "Utility Payment"); the resident's raw words do not ("place" is not
  "Placement").
* Query and terms are compared by TF-IDF cosine, word unigrams/bigrams blended with char_wb n-grams
  (``char_weight``) so that inflections and small typos ("dentl care") still rank the right term
  first. The char part alone cannot reach the default ``min_score``: a lone unknown word is no
  answer, by design.
* A term is returned only when its score reaches ``min_score``; ties are broken by code so the
  answer is deterministic.

Persistence: ``to_json``/``from_json`` store the fitted state as plain JSON (term documents,
vocabularies and idf weights as lists); ``from_json`` rebuilds the vectorizers from them, no pickle.
``fit`` is also cheap (tens of milliseconds on a 517-term taxonomy), so refitting at load time from
the model's ``taxonomy.csv`` is an equally valid choice.
"""
from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .taxonomy import Taxonomy

JSON_FORMAT = "servicematch.need-matcher/1"


@dataclass(frozen=True)
class NeedMatch:
    code: str
    name: str
    #: readable path from the root, e.g. ``Housing > Help Pay for Housing``
    path: str
    #: cosine similarity in [0, 1]; comparable within one matcher only
    score: float


# -- text normalisation --------------------------------------------------------------------------

# Words that carry no need: fillers of how people ask ("I need help with ...") and of how taxonomies
# name terms ("Help Pay for ..."). Removing them on both sides keeps "help" from matching every
# "Help ..." term. sklearn's English list is not used: it drops "bill", "fire", "find", "home".
_STOP = frozenset("""
a about after again all also am an and any anything are as at be because been being but by can
cannot cant could did didnt do does doesnt dont for from get gets getting got had has have havent he
her here hers him his how i id im ill ive if in into is isnt it its just me might more most much must
my myself no not now of off on or our out over please really she should so some someone something
somewhere still than that the their them then there these they this those to too us very was wasnt
we were what when where which while who why will with wont would you your yours anyone anybody
need needs needed want wants wanted help helps helping assistance assist looking look trying try
know like able today tonight week month year day days months years thing things stuff way
el la los las un una de del y o en que por para con mi mis me yo tengo tiene necesito necesita
quiero busco ayuda no es al lo se su sus
""".split())

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower-case, strip accents, drop apostrophes ("can't" -> "cant"), other punctuation -> space."""
    text = text.lower()
    if not text.isascii():  # ASCII needs no decomposition and has no combining marks
        text = unicodedata.normalize("NFKD", text)
        if not text.isascii():
            text = "".join([ch for ch in text if not unicodedata.combining(ch)])
        text = text.replace("\u2019", "")
    return _NON_ALNUM.sub(" ", text.replace("'", "")).strip()


def _stem(word: str) -> str:
    """Fold plurals so "bills"/"bill" and "utilities"/"utility" are one word; applied to both sides."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    return [_stem(w) if w[-1] == "s" else w for w in _fold(text).split()]  # _stem keeps other words


def _content(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t not in _STOP and not t.isdigit()]


# -- lexicon -------------------------------------------------------------------------------------

# (trigger phrases, concept words). A trigger is matched on whole words of the folded, plural-folded
# text; a trailing ``*`` matches any word starting so ("evict*": evict, evicted, eviction). Concept
# words are the generic vocabulary taxonomies use in term names, several synonyms each, so whatever
# the taxonomy calls the concept, one of them is likely in its names. No codes here, on purpose.
LEXICON_FILE = Path(__file__).parent / "data" / "need_lexicon.json"


def _load_lexicon(path: Path = LEXICON_FILE):
    """(Latin-script lexicon, Chinese triggers) from the data file: ``((phrases, concepts), ...)`` and
    ``((zh phrase, concept index), ...)`` longest first."""
    entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
    latin = tuple((tuple(e.get("phrases") or ()), str(e["concepts"])) for e in entries)
    zh = sorted(((t, i) for i, e in enumerate(entries) for t in e.get("zh") or ()), key=lambda t: (-len(t[0]), t[1]))
    return latin, tuple(zh)


_LEXICON, _ZH_TRIGGERS = _load_lexicon()


def _compile_lexicon() -> tuple[tuple[tuple[str, ...], bool, int], ...]:
    """Triggers as (words, last word is a prefix, concept index), longest first.

    Longest first because a phrase is read whole before its parts: "after school" is the after-school
    concept, and its "school" must not also fire the generic school one.
    """
    compiled = []
    for index, (triggers, _) in enumerate(_LEXICON):
        for trig in triggers:
            prefix = trig.endswith("*")
            if prefix:  # leading words fold like the text's; the last stays a raw prefix
                *lead, last = _fold(trig[:-1]).split()
                words = [_stem(w) for w in lead] + [last]
            else:
                words = _tokens(trig)
            compiled.append((tuple(words), prefix, index))
    compiled.sort(key=lambda t: (-len(t[0]), -sum(map(len, t[0])), t[2]))
    return tuple(compiled)


_TRIGGERS = _compile_lexicon()
_CONCEPTS = tuple(_content(_tokens(concepts)) for _, concepts in _LEXICON)
# lookup tables so a query costs a few dict probes per word, not a scan of every trigger: exact first
# word -> trigger ranks; and, for a one-word prefix trigger, its first _PREFIX_KEY characters ->
# (prefix, ranks) (every prefix is at least that long)
_BY_FIRST: dict[str, list[int]] = {}
_PREFIXES: dict[str, list[int]] = {}
for _rank, (_words, _prefix, _) in enumerate(_TRIGGERS):
    if _prefix and len(_words) == 1:
        _PREFIXES.setdefault(_words[0], []).append(_rank)
    else:
        _BY_FIRST.setdefault(_words[0], []).append(_rank)
_PREFIX_KEY = min(map(len, _PREFIXES), default=1)
_BY_PREFIX: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {}
for _p, _ranks in sorted(_PREFIXES.items()):
    _BY_PREFIX[_p[:_PREFIX_KEY]] = _BY_PREFIX.get(_p[:_PREFIX_KEY], ()) + ((_p, tuple(_ranks)),)


def _concepts_of(words: list[str]) -> list[int]:
    """Indices of the lexicon concepts that ``words`` trigger; each word feeds one phrase at most."""
    found: list[tuple[int, int]] = []  # (trigger rank, start): rank order is longest first
    by_first, by_prefix, key = _BY_FIRST, _BY_PREFIX, _PREFIX_KEY
    for start, word in enumerate(words):
        ranks = by_first.get(word, ())
        prefixes = by_prefix.get(word[:key])
        if prefixes:
            for p, more in prefixes:
                if word.startswith(p):
                    ranks = [*ranks, *more]
        for rank in ranks:
            trig, prefix, _ = _TRIGGERS[rank]
            n = len(trig)
            if n > 1:  # a one-word trigger is the word (or its prefix) the tables found it by
                span = words[start:start + n]
                if len(span) < n or span[1:-1] != list(trig[1:-1]):
                    continue
                if not (span[-1] == trig[-1] or (prefix and span[-1].startswith(trig[-1]))):
                    continue
            found.append((rank, start))
    if len(found) < 2:
        return [_TRIGGERS[rank][2] for rank, _ in found]
    used = [False] * len(words)
    fired: set[int] = set()
    for rank, start in sorted(found):
        n = len(_TRIGGERS[rank][0])
        if not any(used[start:start + n]):
            used[start:start + n] = [True] * n
            fired.add(_TRIGGERS[rank][2])
    return sorted(fired)


#: Concepts of getting somewhere: a clause naming one asks for the ride, not for its destination.
_TRANSPORT = frozenset(i for i, (_, concepts) in enumerate(_LEXICON) if concepts.split()[0] in ("transportation", "fare"))
#: A child term scoring this share of its parent's score is answered instead of the parent.
CHILD_RATIO = 0.85

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


#: first character -> positions in ``_ZH_TRIGGERS`` of the phrasings starting with it
_ZH_BY_FIRST: dict[str, list[int]] = {}
for _pos, (_trig, _) in enumerate(_ZH_TRIGGERS):
    _ZH_BY_FIRST.setdefault(_trig[0], []).append(_pos)


def _zh_concepts(text: str) -> list[int]:
    """Concepts named by Chinese phrasings in ``text`` (longest phrase first; each character once)."""
    if not _CJK.search(text):
        return []
    # only phrasings whose first character is in the text can be in it; still read in lexicon order
    candidates = sorted({p for ch in set(text) for p in _ZH_BY_FIRST.get(ch, ())})
    taken = bytearray(len(text))
    out: list[int] = []
    for trig, index in map(_ZH_TRIGGERS.__getitem__, candidates):
        start = text.find(trig)
        while start != -1:
            end = start + len(trig)
            if not any(taken[start:end]):
                taken[start:end] = b"\x01" * len(trig)
                out.append(index)
            start = text.find(trig, start + 1)
    return out


def _analyse(text: str) -> tuple[list[str], list[int]]:
    """(the text's plural-folded words, the lexicon concepts it triggers: Latin-script, then Chinese)."""
    words = _tokens(text)
    return words, _concepts_of(words) + _zh_concepts(text)


def _query_words(text: str, analysed: tuple[list[str], list[int]] | None = None) -> tuple[list[str], list[str]]:
    """(the text's own content words, the concept words its phrasings trigger), each list deduplicated.
    ``analysed``: ``_analyse(text)`` when the caller has it already."""
    words, fired = analysed if analysed is not None else _analyse(text)
    own = list(dict.fromkeys(_content(words)))
    concepts = list(dict.fromkeys(c for i in fired for c in _CONCEPTS[i]))
    return own, concepts


def expand(text: str) -> str:
    """The query document: the text's content words plus the concept words its phrasings trigger.

    Each distinct word once: a resident's "food" that the food concept repeats is still one word,
    so the terms matching the most different words of the need win, not the most repeated one.
    """
    own, concepts = _query_words(text)
    return " ".join(dict.fromkeys(own + concepts))


def _term_doc(text: str) -> str:
    return " ".join(_content(_tokens(text)))


# Derivational endings that join a resident's word to a taxonomy's without changing what is meant:
# "rent" / "Rental Assistance", "pay" / "Utility Payment". Not -er (rent -> "Home Renters" is who,
# not what) nor -ing (live -> "Assisted Living" is one kind of place, not any). Plurals: see _stem.
_SUFFIXES = ("al", "ment", "ation", "ance", "ence")
_MIN_BASE = 3


def _variants(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """word -> the indexed words it derives from or that derive from it, through one suffix."""
    vocab = {w for w in vocabulary if " " not in w}
    links: dict[str, set[str]] = {}
    for word in vocab:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_BASE:
                base = word[: -len(suffix)]
                for b in (base, base + "e"):  # "guidance" <- "guide"
                    links.setdefault(b, set()).add(word)
                    if b in vocab:
                        links.setdefault(word, set()).add(b)
    return {w: tuple(sorted(v - {w})) for w, v in links.items() if v - {w}}


# -- fast query vectors ----------------------------------------------------------------------------

def _word_features(doc: str) -> list[str]:
    """Word unigrams and bigrams of a query document, as the fitted word vectorizer counts them."""
    toks = doc.split()
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]


def _char_features(doc: str, lo: int, hi: int) -> list[str]:
    """char_wb n-grams of a query document, exactly as scikit-learn's ``char_wb`` analyzer makes them."""
    out: list[str] = []
    for w in doc.split():
        out.extend(_word_char_features(w, lo, hi))
    return out


@functools.lru_cache(maxsize=65536)
def _word_char_features(word: str, lo: int, hi: int) -> tuple[str, ...]:
    """One word's char_wb n-grams (words recur across phrases: the lexicon's concept words above all)."""
    out: list[str] = []
    w = f" {word} "
    n_w = len(w)
    for n in range(lo, hi + 1):
        offset = 0
        out.append(w[offset:offset + n])
        while offset + n < n_w:
            offset += 1
            out.append(w[offset:offset + n])
        if offset == 0:  # a word shorter than n is counted once
            break
    return tuple(out)


#: A fitted index is held as a dense features x terms array when it has at most this many cells
#: (16 MB: a 211 taxonomy's ~4,000 char n-grams x 400 terms fits): a query is then one row gather and
#: one product; larger ones keep the sparse rows. When word and char features together fit, they are
#: one array (``_JointIndex``), with a row more for each known word and lexicon concept (~20% more).
DENSE_CELLS = 2_000_000


class _FastIndex:
    """One fitted vectorizer as plain arrays: sublinear tf x idf, l2 norm, then the term scores as a
    weighted sum of the matrix rows the query's features select (no scikit-learn call, no sparse
    product)."""

    def __init__(self, vectorizer, matrix: sp.csr_matrix):
        self.vocabulary = dict(vectorizer.vocabulary_)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.indptr, self.indices, self.data = matrix.indptr, matrix.indices, matrix.data
        self.n_terms = matrix.shape[1]
        self.dense = matrix.toarray() if matrix.shape[0] * matrix.shape[1] <= DENSE_CELLS else None

    def scores(self, features: list[str]) -> np.ndarray:
        counts: dict[int, int] = {}
        vocab = self.vocabulary
        for f in features:
            j = vocab.get(f)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(self.n_terms)
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        w = (1.0 + np.log(tf)) * self.idf[idx]
        w /= math.sqrt(float(w @ w))
        if self.dense is not None:
            return w @ self.dense[idx]
        starts, ends = self.indptr[idx], self.indptr[idx + 1]
        lens = ends - starts
        total = int(lens.sum())
        if not total:
            return np.zeros(self.n_terms)
        pos = np.repeat(starts - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(total)
        return np.bincount(self.indices[pos], weights=self.data[pos] * np.repeat(w, lens), minlength=self.n_terms)


class _JointIndex:
    """Both fitted vectorizers as one dense array of rows (word features, char n-grams, known words) x
    terms, so a query is one gather and one product. Each analyzer's part is l2-normalised on its own
    and weighted (``char_weight``): the two indexes' blended scores, summed in one product.

    A query's char n-grams are many (~50 a clause), its words few. Every word the index is often asked
    about (its own vocabulary, the lexicon's words, their derived forms) has a row of its own: the sum
    of its n-grams' idf-weighted rows. A query then gathers one row per known word, and one per n-gram
    only where a plain sum is not the tf-idf vector: an n-gram counted more than once (sublinear tf
    weighs it 1 + log(count), not count), or one of a word the index does not know."""

    def __init__(self, word: _FastIndex, char: _FastIndex, char_weight: float, char_ngrams: tuple[int, int],
                 words: Iterable[str], blocks: Iterable[Iterable[str]] = ()):
        self.word_vocabulary = word.vocabulary
        self.char_vocabulary = char.vocabulary
        self.n_word = len(word.idf)
        self.n_terms = word.n_terms
        self.idf = np.concatenate([word.idf, char.idf])
        self._idf = self.idf.tolist()
        self._idf2 = (self.idf * self.idf).tolist()
        self.weights = (1.0 - char_weight, char_weight)
        self.char_ngrams = tuple(char_ngrams)
        n_features = len(self.idf)
        blocks = [frozenset(b) for b in blocks]
        rows_of = {w: self._char_rows(w) for w in dict.fromkeys([*words, *(w for b in blocks for w in sorted(b))])}
        own = {w: rows_of[w] for w in dict.fromkeys(words) if rows_of[w]}
        self.rows = np.empty((n_features + len(own) + len(blocks), self.n_terms))
        self.rows[:self.n_word], self.rows[self.n_word:n_features] = word.dense, char.dense
        word.dense, char.dense = self.rows[:self.n_word], self.rows[self.n_word:n_features]  # views
        #: word -> (its own row, its n-grams' rows, sum of their squared idf)
        self.known: dict[str, tuple[int, list[int], float]] = {}
        for at, (w, r) in enumerate(own.items(), start=n_features):
            self.known[w] = (at, r, math.fsum(self._idf2[j] for j in r))
        #: a block of words always queried together (a lexicon concept's words and their derived forms)
        #: -> (its row: the tf-idf weighted sum of its n-grams' rows, its words, its n-gram counts,
        #: the squared norm of its n-gram weights)
        self.blocks: list[tuple[int, frozenset[str], dict[int, int], float]] = []
        block_counts = [Counter(j for w in sorted(b) for j in rows_of[w]) for b in blocks]
        for at, (b, counts) in enumerate(zip(blocks, block_counts), start=n_features + len(own)):
            tf = [1.0 + math.log(c) for c in counts.values()]
            square = math.fsum((t * self._idf[j]) ** 2 for t, j in zip(tf, counts))
            self.blocks.append((at, b, dict(counts), square))
        # every such row at once: (rows x n-grams weights, sparse) @ (n-gram rows x terms)
        weights = [(r, [1.0] * len(r)) for r in own.values()]
        weights += [(list(c), [1.0 + math.log(n) for n in c.values()]) for c in block_counts]
        if weights:
            indptr = np.cumsum([0] + [len(r) for r, _ in weights])
            cols = np.fromiter((j for r, _ in weights for j in r), dtype=np.intp, count=indptr[-1])
            tfs = np.fromiter((t for _, ts in weights for t in ts), dtype=np.float64, count=indptr[-1])
            mix = sp.csr_matrix((tfs * self.idf[cols], cols, indptr), shape=(len(weights), n_features))
            self.rows[n_features:] = mix @ self.rows[:n_features]

    def _char_rows(self, word: str) -> list[int]:
        """Rows of ``word``'s char_wb n-grams (those ``_word_char_features`` makes) that the index has."""
        vocab, offset = self.char_vocabulary, self.n_word
        lo, hi = self.char_ngrams
        w = f" {word} "
        n_w = len(w)
        top = min(hi, n_w) if n_w >= lo else lo  # a word shorter than n is counted once, as a whole
        return [j + offset for n in range(lo, top + 1) for i in range(n_w - n + 1 if n_w >= n else 1)
                if (j := vocab.get(w[i:i + n])) is not None]

    def scores(self, words: list[str], block: int | None = None) -> np.ndarray:
        """Blended scores of the query document made of ``words`` (distinct, in order). ``block``: a block
        all of whose words are among ``words``, whose char n-grams are then read from its row."""
        idf, idf2 = self._idf, self._idf2
        # word unigrams and bigrams: a few rows, weighted here
        vocab = self.word_vocabulary
        ids = [j for f in words if (j := vocab.get(f)) is not None]
        ids += [j for a, b in zip(words, words[1:]) if (j := vocab.get(f"{a} {b}")) is not None]
        if len(set(ids)) == len(ids):
            coefs = [idf[j] for j in ids]
        else:
            counts = Counter(ids)
            ids = list(counts)
            coefs = [(1.0 + math.log(c)) * idf[j] for j, c in counts.items()]
        if coefs:
            scale = self.weights[0] / math.sqrt(math.fsum([x * x for x in coefs]))
            coefs = [x * scale for x in coefs]
        # char n-grams: a block's row, a known word's row, and the n-grams these rows do not weigh right
        known = self.known
        n_ids = len(ids)
        in_block: dict[int, int] = {}  # the block's n-gram counts
        if block is not None:
            at, block_words, in_block, square = self.blocks[block]
            words = [w for w in words if w not in block_words]
            ids.append(at)
        else:
            square = 0.0
        kin: list[int] = []   # n-gram rows inside known words' rows
        loose: list[int] = []  # n-gram rows of words the index does not know
        for w in words:
            e = known.get(w)
            if e is None:
                loose += self._char_rows(w)
            else:
                ids.append(e[0])
                kin += e[1]
                square += e[2]
        char_coefs = [1.0] * (len(ids) - n_ids)
        if kin or loose:
            if len(set(kin).union(loose)) == len(kin) + len(loose) and in_block.keys().isdisjoint(kin) \
                    and in_block.keys().isdisjoint(loose):  # every n-gram once
                ids += loose
                char_coefs += [idf[j] for j in loose]
                square += math.fsum([idf2[j] for j in loose])
            else:
                # an n-gram counted c times, b of them in the block's row (weighed 1 + log b there) and k
                # in known words' rows (weighed k), weighs 1 + log c: the difference is added
                in_known = Counter(kin)
                counts = in_known.copy()
                counts.update(loose)
                for j in dict.fromkeys([j for j, c in counts.items() if c > 1 or j in in_block] + loose):
                    b, k = in_block.get(j, 0), in_known.get(j, 0)
                    c = b + counts[j]
                    tf = 1.0 + math.log(c) if c > 1 else 1.0
                    tf_b = (1.0 + math.log(b) if b > 1 else 1.0) if b else 0.0
                    ids.append(j)
                    char_coefs.append((tf - tf_b - k) * idf[j])
                    square += (tf * tf - tf_b * tf_b - k) * idf2[j]
        if square:
            scale = self.weights[1] / math.sqrt(square)
            coefs += [x * scale for x in char_coefs]
        else:
            coefs += [0.0] * len(char_coefs)
        if not ids:
            return np.zeros(self.n_terms)
        return np.array(coefs) @ self.rows.take(ids, axis=0)


#: Letters of folded words, numbered from 1 (0 counts any other character: a bound, not an exact count)
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_LETTER = {ch: i for i, ch in enumerate(_LETTERS, start=1)}

#: Words the lexicon knows (for typo suggestions: "fod" -> food).
_LEXICON_WORDS = frozenset(w for triggers, _ in _LEXICON for t in triggers if not t.endswith("*")
                           for w in _tokens(t) if len(w) > 2)


# -- several needs in one sentence ---------------------------------------------------------------

@dataclass(frozen=True)
class ParsedNeed:
    code: str
    name: str
    path: str
    #: the resident's words this need came from
    words: str
    score: float


@dataclass(frozen=True)
class ParsedText:
    needs: tuple[ParsedNeed, ...]
    #: parts of the text no need was read from
    not_understood: tuple[str, ...] = ()
    #: a misspelt word -> the word it probably is ("fod" -> "food")
    suggestions: tuple[tuple[str, str], ...] = ()

    def message(self) -> str | None:
        """What a caseworker should read about the parts not understood, or None."""
        if not self.not_understood and not self.suggestions:
            return None
        parts = []
        if self.not_understood:
            parts.append("not understood: " + "; ".join(f"\u201c{t}\u201d" for t in self.not_understood))
        if self.suggestions:
            parts.append("did you mean " + ", ".join(f"{b!r} for {a!r}" for a, b in self.suggestions) + "?")
        return "; ".join(parts)


# list separators between needs: punctuation, "and", "also", "plus", "but"; Spanish "y", "e", "pero",
# "también"; Chinese separators are jieba tokens
_LATIN_SPLIT = re.compile(r"\s*(?:[,;.!?]+|\b(?:and|also|plus|but|as well as|y|e|pero|tambien|también|ademas|además)\b)\s*",
                          re.IGNORECASE)
_ZH_SEPARATORS = frozenset("，, 、。；;！!？?".split() + list("，、。；！？") + [
    "和", "还", "也", "并且", "以及", "而且", "还有", "跟", "又", "同时", "另外", "还要", "也要"])


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba  # imported when Chinese is first met: its dictionary takes ~0.5 s to load

    jieba.setLogLevel(60)
    jieba.initialize()
    for phrase, _ in _ZH_TRIGGERS:  # keep the lexicon's phrasings whole ("学英语", not "和学" + "英语")
        jieba.add_word(phrase)
    return jieba


#: a separator or a space: a Chinese text without any cannot be split by jieba's tokens
_ZH_MAY_SPLIT = re.compile("|".join(map(re.escape, sorted(_ZH_SEPARATORS, key=lambda t: (-len(t), t)))) + r"|\s")


def split_clauses(text: str) -> list[str]:
    """The parts of a need text that may each state one need."""
    if _CJK.search(text):
        if not _ZH_MAY_SPLIT.search(text):  # jieba's tokens would join back into the text unsplit
            return [p for p in _LATIN_SPLIT.split(text) if p and p.strip()]
        clauses, cur = [], []
        for tok in _jieba().lcut(text):
            if tok.strip() in _ZH_SEPARATORS or not tok.strip():
                if cur:
                    clauses.append("".join(cur))
                cur = []
            else:
                cur.append(tok)
        if cur:
            clauses.append("".join(cur))
        out = []
        for c in clauses:  # a Latin-script part inside ("我需要 food and jobs") splits like English
            out.extend(p for p in _LATIN_SPLIT.split(c) if p and p.strip())
        return out
    return [p for p in _LATIN_SPLIT.split(text) if p and p.strip()]


# -- the matcher ---------------------------------------------------------------------------------

class NeedMatcher:
    """Nearest taxonomy terms of a free-text need (scikit-learn conventions: ``fit(taxonomy)``).

    Parameters
    ----------
    min_score : default threshold of ``match``; below it a term is not returned.
    name_weight : share of a term's own name in its vector (the rest is its ancestors' names).
    char_weight : share of the char_wb n-gram similarity in the score (the rest is word n-grams).
    char_ngrams : (min, max) length of char_wb n-grams.
    """

    def __init__(self, min_score: float = 0.3, name_weight: float = 0.75, char_weight: float = 0.3,
                 char_ngrams: tuple[int, int] = (3, 5)):
        self.min_score = min_score
        self.name_weight = name_weight
        self.char_weight = char_weight
        self.char_ngrams = char_ngrams

    # vectorizers take our own normalised documents: no second lower-casing or token rules
    def _word_vectorizer(self, vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="word", lowercase=False, token_pattern=r"\S+",
                               ngram_range=(1, 2), sublinear_tf=True, vocabulary=vocabulary)

    def _char_vectorizer(self, vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char_wb", lowercase=False, ngram_range=tuple(self.char_ngrams),
                               sublinear_tf=True, vocabulary=vocabulary)

    def _check_params(self) -> None:
        if not 0.0 <= self.name_weight <= 1.0:
            raise ValueError(f"name_weight must be in [0, 1], got {self.name_weight!r}")
        if not 0.0 <= self.char_weight <= 1.0:
            raise ValueError(f"char_weight must be in [0, 1], got {self.char_weight!r}")
        lo, hi = self.char_ngrams
        if not 1 <= lo <= hi:
            raise ValueError(f"char_ngrams must be (min, max) with 1 <= min <= max, got {self.char_ngrams!r}")

    def fit(self, taxonomy: Taxonomy, codes: Iterable[str] | None = None) -> "NeedMatcher":
        """Index the taxonomy's terms (or only ``codes``, e.g. those services actually use)."""
        self._check_params()
        wanted = taxonomy.codes() if codes is None else sorted({str(c).strip().lower() for c in codes})
        unknown = [c for c in wanted if c not in taxonomy.parents]
        if unknown:
            raise ValueError(f"codes not in the taxonomy: {', '.join(unknown[:5])}")
        if not wanted:
            raise ValueError("taxonomy has no terms to index")
        self.codes_ = list(wanted)
        self.names_ = [taxonomy.names.get(c, c) for c in self.codes_]
        self.paths_ = [taxonomy.path(c) for c in self.codes_]
        self.name_docs_ = [_term_doc(n) for n in self.names_]
        self.context_docs_ = [_term_doc(" ".join(taxonomy.names.get(a, a) for a in taxonomy.ancestors(c)[1:]))
                              for c in self.codes_]
        # names in other languages (taxonomy.csv ``name_<lang>`` columns): Latin-script ones join the
        # term's own name; Chinese names are matched as written
        translations = getattr(taxonomy, "translations", {}) or {}
        for lang, names in sorted(translations.items()):
            if lang == "zh":
                continue
            self.name_docs_ = [f"{d} {_term_doc(names[c])}".strip() if names.get(c) else d
                               for c, d in zip(self.codes_, self.name_docs_)]
        # a clause naming the general need ("help", "health") adds nothing beside a specific one
        self.ancestors_ = {c: tuple(taxonomy.ancestors(c)[1:]) for c in self.codes_}
        position = {c: i for i, c in enumerate(self.codes_)}
        self.children_ = {}
        for c in self.codes_:
            parent = taxonomy.parents.get(c)
            if parent in position:
                self.children_.setdefault(parent, []).append(position[c])
        zh = translations.get("zh", {})
        self.zh_names_ = {i: zh[c] for i, c in enumerate(self.codes_) if zh.get(c)}
        # idf over names and paths together: a word in every path ("health" under Health) is common
        self.word_vectorizer_ = self._word_vectorizer().fit(self.name_docs_ + self.context_docs_)
        self.char_vectorizer_ = self._char_vectorizer().fit(self.name_docs_ + self.context_docs_)
        self._index()
        return self

    def _index(self) -> None:
        """Term vectors: own name blended with ancestors' names, each l2-normalised, per analyzer."""
        def blend(vec: TfidfVectorizer) -> sp.csr_matrix:
            names = vec.transform(self.name_docs_)
            context = vec.transform(self.context_docs_)
            return normalize((self.name_weight * names + (1.0 - self.name_weight) * context).tocsr())
        self.word_matrix_ = blend(self.word_vectorizer_).T.tocsr()
        self.variants_ = _variants(self.word_vectorizer_.vocabulary_)
        self.char_matrix_ = blend(self.char_vectorizer_).T.tocsr()
        # queries are vectorised by hand against plain arrays: scikit-learn's transform validates its
        # input on every call, which cost ~1 ms a phrase, many times the whole match
        self._fast = {"word": _FastIndex(self.word_vectorizer_, self.word_matrix_),
                      "char": _FastIndex(self.char_vectorizer_, self.char_matrix_)}
        word, char = self._fast["word"], self._fast["char"]
        self._joint = None
        if word.dense is not None and char.dense is not None and \
                (len(word.idf) + len(char.idf)) * word.n_terms <= DENSE_CELLS:
            vocab = [w for w in self.word_vectorizer_.vocabulary_ if " " not in w]
            often = dict.fromkeys(vocab + [c for cs in _CONCEPTS for c in cs]
                                  + [v for vs in self.variants_.values() for v in vs] + sorted(_LEXICON_WORDS))
            # a concept's block: its words and their derived forms, all in any query it fires
            blocks = [dict.fromkeys(list(cs) + [v for c in cs for v in self.variants_.get(c, ())])
                      for cs in _CONCEPTS]
            self._joint = _JointIndex(word, char, self.char_weight, self.char_ngrams, often, blocks)
        self._known = frozenset(w for w in self.word_vectorizer_.vocabulary_ if " " not in w) | _LEXICON_WORDS
        self._known_by_head: dict[str, list[str]] = {}
        for w in sorted(self._known):
            self._known_by_head.setdefault(w[0], []).append(w)
        # per first letter: the words, their lengths and letter counts (typo candidates, see _near)
        self._spell_index = {}
        for head, words in self._known_by_head.items():
            letters = np.zeros((len(words), len(_LETTERS) + 1), dtype=np.int16)
            for i, w in enumerate(words):
                for ch in w:
                    letters[i, _LETTER.get(ch, 0)] += 1
            self._spell_index[head] = (words, np.array([len(w) for w in words]), letters)
        self._kids = {c: np.array(sorted(k), dtype=np.intp)
                      for c, k in (getattr(self, "children_", None) or {}).items()}
        # a name written in Chinese can only be in a non-ASCII text (checked, unless a name is ASCII)
        self._zh_ascii = any(n.isascii() for n in self.zh_names_.values())
        self.parse = functools.lru_cache(maxsize=4096)(self._parse)
        _jieba()  # jieba's dictionary loads once per process (~1 s), at model load rather than on a request

    def scores(self, text: str) -> np.ndarray:
        """Similarity of ``text`` to every indexed term, in ``codes_`` order."""
        if not hasattr(self, "codes_"):
            raise RuntimeError("NeedMatcher is not fitted: call fit(taxonomy) or from_json(data) first")
        if not isinstance(text, str):
            raise TypeError(f"need text must be a string, got {type(text).__name__}")
        return self._scores(text, _analyse(text))

    def _scores(self, text: str, analysed: tuple[list[str], list[int]]) -> np.ndarray:
        """``scores(text)`` from ``_analyse(text)``."""
        own, concepts = _query_words(text, analysed)
        words = list(dict.fromkeys(own + concepts))
        if not words:
            return np.zeros(len(self.codes_))
        # only the lexicon's words reach derived forms: they are chosen to be generic ("rent",
        # "pay"), while a resident's own word may mean something else once suffixed ("place")
        extra = [v for w in concepts for v in self.variants_.get(w, ()) if v not in words]
        words += dict.fromkeys(extra)
        if self._joint is not None:
            # the first concept fired is a block: all its words and their derived forms are in words
            out = self._joint.scores(words, analysed[1][0] if analysed[1] else None)
        else:
            doc = " ".join(words)
            word = self._fast["word"].scores(_word_features(doc))
            char = self._fast["char"].scores(_char_features(doc, *self.char_ngrams))
            out = (1.0 - self.char_weight) * word + self.char_weight * char
        if self.zh_names_ and (self._zh_ascii or not text.isascii()):
            # a term named in Chinese by the taxonomy itself (``name_zh``), said as written
            for i, name in self.zh_names_.items():
                if name and name in text:
                    out[i] = max(out[i], 1.0)
        return out

    def match(self, text: str, k: int = 3, min_score: float | None = None) -> list[NeedMatch]:
        """The ``k`` closest terms scoring at least ``min_score``, best first; [] when none is close."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k!r}")
        return self._top(self.scores(text), k, min_score)

    def _top(self, scores: np.ndarray, k: int = 1, min_score: float | None = None) -> list[NeedMatch]:
        threshold = self.min_score if min_score is None else min_score
        # rounding makes near-equal float sums tie exactly, so the code decides and order is stable
        if k == 1:  # the best only (a clause's need): its ties are within 1e-6 of the maximum
            i = int(scores.argmax())
            top = float(scores[i])
            best = round(top * 1e6) / 1e6  # what np.round(top, 6) computes: scale, round half to even, unscale
            if not (best >= threshold and best > 0):
                return []
            near = scores >= top - 2e-6
            if np.count_nonzero(near) > 1:
                near = near.nonzero()[0]
                tied = near[scores[near].round(6) == best].tolist()
                i = min(tied, key=self.codes_.__getitem__)
            return [NeedMatch(self.codes_[i], self.names_[i], self.paths_[i], float(best))]
        s = np.round(scores, 6)
        keep = np.flatnonzero((s >= threshold) & (s > 0))
        if keep.size == 0:
            return []
        order = sorted(keep.tolist(), key=lambda i: (-s[i], self.codes_[i]))[:k]
        return [NeedMatch(self.codes_[i], self.names_[i], self.paths_[i], float(s[i])) for i in order]

    def _parse(self, text: str) -> ParsedText:
        """Every need ``text`` states, each with the words it came from; what was not understood;
        suggestions for misspelt words. Cached per matcher (``parse``): the same words cost a lookup."""
        if not isinstance(text, str):
            raise TypeError(f"need text must be a string, got {type(text).__name__}")
        needs: dict[str, ParsedNeed] = {}
        missed: list[str] = []
        fixes: dict[str, str] = {}
        for clause in split_clauses(text):
            words = clause.strip()
            found = self._match_clause(words)
            if not found:
                fixed = self._spelled(words, fixes)
                found = self._match_clause(fixed) if fixed != words else []
            if found:
                m = found[0]
                if m.code not in needs:
                    needs[m.code] = ParsedNeed(m.code, m.name, m.path, words, m.score)
            elif _content(_tokens(words)) or (_CJK.search(words) and len(words) > 1):
                missed.append(words)
        ancestors = getattr(self, "ancestors_", {})
        covered = {a for code in needs for a in ancestors.get(code, ())}
        kept = tuple(n for code, n in needs.items() if code not in covered)
        return ParsedText(kept, tuple(missed), tuple(fixes.items()))

    def _match_clause(self, words: str) -> list[NeedMatch]:
        """The need of one clause: a way to get somewhere is the need, not where to ("a ride to my
        doctor", "没车去医院"); among a term and its children, a child close to it is the more useful
        answer ("transportation" -> Ride programs)."""
        analysed = _analyse(words)
        fired = set(analysed[1])
        s = None
        if fired & _TRANSPORT:
            s = self.scores(" ".join(c for i in sorted(fired & _TRANSPORT) for c in _CONCEPTS[i]))
            found = self._top(s)
            if not found:
                s = None
        if s is None:
            s = self._scores(words, analysed)
            found = self._top(s)
        if not found or not getattr(self, "children_", None):
            return found
        top = found[0]
        kids = self._kids.get(top.code)
        if kids is not None:
            i = int(kids[s[kids].argmax()])  # the first best: kids are in ``codes_`` order
            if s[i] >= CHILD_RATIO * top.score:
                return [NeedMatch(self.codes_[i], self.names_[i], self.paths_[i], float(s[i]))]
        return found

    def _spelled(self, words: str, fixes: dict[str, str]) -> str:
        """``words`` with each unknown word replaced by the closest known one (edit similarity >= 0.75)."""
        import difflib

        out = []
        for w in _fold(words).split():
            stem = _stem(w)
            if len(w) > 2 and stem not in self._known and stem not in _STOP and not w.isdigit():
                # candidates of a like length sharing the first letter: a typo rarely changes both
                near = self._near(stem)
                close = difflib.get_close_matches(stem, near, n=1, cutoff=0.75) if near else []
                if close:
                    fixes[w] = close[0]
                    w = close[0]
            out.append(w)
        return " ".join(out)

    def _near(self, stem: str) -> list[str]:
        """Known words sharing ``stem``'s first letter, of a length within 2, that can be 0.75 alike.

        Without the last condition these are difflib's candidates; with it, only those whose
        ``quick_ratio`` bound (shared letters, counted) reaches the cutoff, which difflib would test
        first anyway: the same answer, from a few candidates instead of dozens."""
        head = self._spell_index.get(stem[0])
        if head is None:
            return []
        words, lengths, letters = head
        n = len(stem)
        counts = np.bincount([_LETTER.get(ch, 0) for ch in stem], minlength=letters.shape[1])
        like = np.abs(lengths - n) <= 2
        shared = np.minimum(letters, counts).sum(axis=1)
        like &= 2.0 * shared / (lengths + n) >= 0.75
        return [words[i] for i in like.nonzero()[0].tolist()]

    # -- persistence (plain JSON, no pickle) -----------------------------------------------------

    def to_json(self) -> dict:
        if not hasattr(self, "codes_"):
            raise RuntimeError("NeedMatcher is not fitted: nothing to store")

        def vec_state(vec: TfidfVectorizer) -> dict:
            vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
            return {"vocabulary": vocab, "idf": [float(x) for x in vec.idf_]}

        return {
            "format": JSON_FORMAT,
            "params": {"min_score": self.min_score, "name_weight": self.name_weight,
                       "char_weight": self.char_weight, "char_ngrams": list(self.char_ngrams)},
            "terms": {"codes": self.codes_, "names": self.names_, "paths": self.paths_,
                      "name_docs": self.name_docs_, "context_docs": self.context_docs_,
                      "zh_names": {str(i): n for i, n in self.zh_names_.items()}},
            "word": vec_state(self.word_vectorizer_),
            "char": vec_state(self.char_vectorizer_),
        }

    @classmethod
    def from_json(cls, data: dict) -> "NeedMatcher":
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"need matcher JSON: expected format {JSON_FORMAT!r}, got {got!r}")
        try:
            params, terms = data["params"], data["terms"]
            self = cls(min_score=float(params["min_score"]), name_weight=float(params["name_weight"]),
                       char_weight=float(params["char_weight"]), char_ngrams=tuple(params["char_ngrams"]))
            self._check_params()
            self.codes_ = [str(c) for c in terms["codes"]]
            self.names_ = [str(n) for n in terms["names"]]
            self.paths_ = [str(p) for p in terms["paths"]]
            self.name_docs_ = [str(d) for d in terms["name_docs"]]
            self.context_docs_ = [str(d) for d in terms["context_docs"]]
            self.zh_names_ = {int(i): str(n) for i, n in (terms.get("zh_names") or {}).items()}
            self.word_vectorizer_ = self._restore(self._word_vectorizer, data["word"], "word")
            self.char_vectorizer_ = self._restore(self._char_vectorizer, data["char"], "char")
        except KeyError as exc:
            raise ValueError(f"need matcher JSON: missing field {exc.args[0]!r}") from None
        n = len(self.codes_)
        for field in ("names_", "paths_", "name_docs_", "context_docs_"):
            if len(getattr(self, field)) != n:
                raise ValueError(f"need matcher JSON: terms.{field[:-1]} has {len(getattr(self, field))} "
                                 f"entries, terms.codes has {n}")
        self._index()
        return self

    @staticmethod
    def _restore(make, state: dict, which: str) -> TfidfVectorizer:
        vocab, idf = list(state["vocabulary"]), np.asarray(state["idf"], dtype=np.float64)
        if len(vocab) != len(idf) or len(set(vocab)) != len(vocab) or not vocab:
            raise ValueError(f"need matcher JSON: {which}.vocabulary ({len(vocab)} entries, unique and "
                             f"non-empty) must match {which}.idf ({len(idf)} entries)")
        vec = make({t: i for i, t in enumerate(vocab)})
        vec.idf_ = idf
        return vec
