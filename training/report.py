"""The trainer's report: one self-contained HTML page about every model version in a models folder.

    servicematch report --models models/ --out report.html

What it shows, all read from the version folders (``<version>/metrics.json`` and ``model.json``):

- the current model's warm and cold figures against the two baselines (popularity, need_match);
- every version's metrics over time (each version on its own holdout: the holdout moves with the
  data, so the promotion table beside it gives the comparable pair, the new model and the model it
  would replace, scored on the same residents);
- per-group equity where ``metrics.json`` has ``groups`` (rendered generically: any nesting of
  dicts whose leaves are numbers becomes a table);
- every promotion decision with its reason, and the data and timing of each run.

Plots are inline SVG drawn here (no plotting library, no script, no URL to another host), so the
file can be mailed or opened offline; the same page is served at ``/console/models``.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from recommender import artifacts
from recommender.files import atomic_write_bytes

from .labels import GROUPS, METRICS, RANKERS, TIMING, timing_label
from .promote import pooled

PRIMARY = "ndcg@10"
TABLE_METRICS = [name for name, _ in METRICS]
OVER_TIME = ("ndcg@10", "precision@10", "need_coverage@5")
COLORS = {"model": "#1f5fbf", "popularity": "#6b7280", "need_match": "#b45309", "current_rescored": "#7c3aed"}
DASH = {"model": "", "popularity": "6 4", "need_match": "2 3"}


@dataclass
class Version:
    name: str
    trained_at: str | None
    metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def when(self) -> str:
        return (self.trained_at or "?")[:16].replace("T", " ")

    @property
    def promotion(self) -> dict:
        return self.metrics.get("promotion") or {}

    def figure(self, group: str, ranker: str, metric: str) -> float | None:
        value = ((self.metrics.get(group) or {}).get(ranker) or {}).get(metric)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    def _pooled(self, by_group: dict) -> float | None:
        numeric = {g: {PRIMARY: m[PRIMARY]} for g, m in by_group.items()
                   if isinstance(m, dict) and isinstance(m.get(PRIMARY), (int, float))}
        counts = {k: v for k, v in (self.metrics.get("data") or {}).items() if isinstance(v, (int, float))}
        return pooled(numeric, PRIMARY, counts)

    def pooled_model(self) -> float | None:
        return self._pooled({g: (self.metrics.get(g) or {}).get("model") for g in ("warm", "cold")})

    def paired(self) -> dict:
        """The new model against the one it would replace, on the same residents: ``new``, ``old``,
        ``diff``, ``ci`` (low, high) and ``residents`` where recorded. Reads the paired comparison
        (``promotion.comparison``: a = the current model, b = this one) or, from older versions, the
        current model re-scored on this version's holdout (``promotion.current_rescored``)."""
        comp = self.promotion.get("comparison")
        if isinstance(comp, dict):
            num = {k: v for k, v in comp.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            ci = comp.get("ci")
            return {"new": num.get(f"{PRIMARY}_b"), "old": num.get(f"{PRIMARY}_a"), "diff": num.get("diff"),
                    "ci": tuple(ci) if isinstance(ci, list) and len(ci) == 2 else None,
                    "residents": num.get("residents")}
        rescored = self.promotion.get("current_rescored")
        new = self.pooled_model()
        if not isinstance(rescored, dict) or "error" in rescored:
            return {"new": new, "old": None, "diff": None, "ci": None, "residents": None}
        old = self._pooled(rescored)
        return {"new": new, "old": old, "diff": None if new is None or old is None else new - old, "ci": None,
                "residents": None}


def _clean(metrics: dict) -> dict:
    """metrics.json with every part the report reads in the expected shape (a part that is not is
    left out, so one odd file cannot break the page)."""
    out = {k: v for k, v in metrics.items() if isinstance(v, dict)}
    for group in ("warm", "cold"):
        if group in out:
            out[group] = {r: m for r, m in out[group].items() if isinstance(m, dict)}
    return out


def collect(models_dir: str | Path) -> tuple[list[Version], str | None]:
    """Every version folder, oldest first, and the current version's name."""
    root = Path(models_dir)
    versions = []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "model.json").exists()) if root.is_dir() else []
    for folder in folders:
        try:
            meta = artifacts.read_json(folder / "model.json")
            metrics = artifacts.read_json(folder / "metrics.json")
            if not isinstance(meta, dict) or not isinstance(metrics, dict):
                raise artifacts.ModelFileError(f"{folder}: model.json or metrics.json is not a JSON object")
            versions.append(Version(folder.name, str(meta.get("trained_at") or "") or None, _clean(metrics), meta))
        except (artifacts.ModelFileError, OSError) as e:
            versions.append(Version(folder.name, None, error=str(e)))
    versions.sort(key=lambda v: (v.trained_at or "", v.name))
    return versions, artifacts.current_version(root)


# ------------------------------------------------------------------------------------------ SVG


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _nice_max(values: list[float]) -> float:
    top = max([v for v in values if v is not None] or [1.0])
    return min(1.0, math.ceil(top * 10 + 1e-9) / 10) if top <= 1 else math.ceil(top)


def _frame(title: str, width: int, height: int, left: float, pw: float, ymax: float, y) -> list[str]:
    """The opening of a plot: the svg element, its title, and five horizontal grid lines with labels."""
    out = [f'<svg role="img" aria-label="{_esc(title)}" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
           f"<title>{_esc(title)}</title>",
           f'<text x="{left}" y="16" font-size="13" font-weight="bold">{_esc(title)}</text>']
    for k in range(5):
        v = ymax * k / 4
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>'
                   f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    return out


def line_chart(title: str, x_labels: list[str], series: list[tuple[str, list[float | None], str, str]],
               width: int = 660, height: int = 250) -> str:
    """Lines over versions (x = version order). ``series``: (label, values, colour, dash)."""
    left, right, top, bottom = 40, 100, 28, 44
    pw, ph = width - left - right, height - top - bottom
    ymax = _nice_max([v for _, vals, _, _ in series for v in vals if v is not None])
    n = len(x_labels)

    def x(i: int) -> float:
        return left + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: float) -> float:
        return top + ph * (1 - v / ymax)

    out = _frame(title, width, height, left, pw, ymax, y)
    step = max(1, math.ceil(n / 6))
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            out.append(f'<text x="{x(i):.1f}" y="{top + ph + 16}" text-anchor="middle">{_esc(label)}</text>')
    for s, (label, values, colour, dash) in enumerate(series):
        pts = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            path = " ".join(f"{'M' if j == 0 else 'L'}{px:.1f},{py:.1f}" for j, (px, py) in enumerate(pts))
            out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"'
                       + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        for px, py in pts:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        ly = top + 8 + s * 16
        out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 32}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
                   f'<text x="{left + pw + 36}" y="{ly + 4}">{_esc(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(title: str, groups: list[tuple[str, list[tuple[str, float | None, str]]]],
              width: int = 660, height: int = 230) -> str:
    """Grouped bars. ``groups``: (group label, [(bar label, value, colour)])."""
    left, right, top, bottom = 40, 100, 28, 40
    pw, ph = width - left - right, height - top - bottom
    values = [v for _, bars in groups for _, v, _ in bars if v is not None]
    ymax = _nice_max(values)
    gw = pw / max(1, len(groups))
    out = _frame(title, width, height, left, pw, ymax, lambda v: top + ph * (1 - v / ymax))
    legend: dict[str, str] = {}
    for g, (label, bars) in enumerate(groups):
        bw = gw * 0.8 / max(1, len(bars))
        for b, (name, value, colour) in enumerate(bars):
            legend.setdefault(name, colour)
            if value is None:
                continue
            h = ph * value / ymax
            bx = left + g * gw + gw * 0.1 + b * bw
            out.append(f'<rect x="{bx:.1f}" y="{top + ph - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                       f'fill="{colour}"><title>{_esc(label)}, {_esc(name)}: {value:.4f}</title></rect>')
        out.append(f'<text x="{left + g * gw + gw / 2:.1f}" y="{top + ph + 16}" text-anchor="middle">'
                   f"{_esc(label)}</text>")
    for s, (name, colour) in enumerate(legend.items()):
        ly = top + 8 + s * 16
        out.append(f'<rect x="{left + pw + 12}" y="{ly - 6}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{left + pw + 30}" y="{ly + 4}">{_esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------------------ sections


_NUMERIC = re.compile(r"^[-–+]?[\d.,]*( s)?$")


def _table(head: list[str], rows: list[list[str]], caption: str | None = None) -> str:
    """Rows are already-escaped HTML cells."""
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    th = "".join(f'<th scope="col">{_esc(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(c if c.startswith("<th") else
                                    f'<td class="n">{c}</td>' if _NUMERIC.match(c) else f"<td>{c}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _current_section(v: Version) -> str:
    parts = [f"<h2 id=\"current\">Current model: {_esc(v.name)}</h2>",
             f"<p>Trained {_esc(v.trained_at or '?')}. " + _esc(_data_line(v)) + "</p>"]
    groups = [g for g in ("warm", "cold") if v.metrics.get(g)]
    plots = []
    for metric in ("ndcg@10", "precision@10", "need_coverage@5"):
        bars = [(g, [(r, v.figure(g, r, metric), COLORS.get(r, "#111")) for r in v.metrics[g]]) for g in groups]
        plots.append(bar_chart(f"{metric}: model against the baselines", bars, width=460))
    parts.append(f'<div class="plots">{"".join(plots)}</div>')
    tables = []
    for g in groups:
        rankers = list(v.metrics[g])
        rows = [[f"<th scope=\"row\">{_esc(m)}</th>"] + [_fmt(v.figure(g, r, m)) for r in rankers]
                for m in TABLE_METRICS]
        n = (v.metrics.get("data") or {}).get(f"{g}_residents_evaluated", "?")
        tables.append(_table(["metric", *rankers], rows, f"{GROUPS.get(g, g)} ({n} evaluated)"))
    parts.append(f'<div class="plots">{"".join(tables)}</div>')
    return "\n".join(parts)


def _data_line(v: Version) -> str:
    d = v.metrics.get("data") or {}
    bits = [f"{d[k]:,} {k}" for k in ("residents", "services", "interactions") if isinstance(d.get(k), int)]
    holdout = d.get("holdout")
    return ("Data: " + ", ".join(bits) + (f"; holdout by {holdout}" if holdout else "") + ".") if bits else ""


def _over_time_section(versions: list[Version], current: str | None) -> str:
    ok = [v for v in versions if v.error is None]
    if not ok:
        return ""
    labels = [(v.trained_at or v.name)[5:16].replace("T", " ") for v in ok]
    parts = ['<h2 id="over-time">Every version over time</h2>',
             "<p>Each point is a version scored on its own holdout (the last part of the time span of the "
             "data it was trained on). Holdouts move with the data, so compare neighbouring points with "
             "care; the promotion table below gives the comparable pair: the new model and the model it "
             "would replace, scored on the same residents.</p>"]
    for metric in OVER_TIME:
        plots = []
        for g in ("warm", "cold"):
            rankers = []
            for v in ok:
                for r in (v.metrics.get(g) or {}):
                    if r not in rankers:
                        rankers.append(r)
            if not rankers:
                continue
            series = [(r, [v.figure(g, r, metric) for v in ok], COLORS.get(r, "#111"), DASH.get(r, "4 2"))
                      for r in rankers]
            plots.append(line_chart(f"{metric}, {g} residents", labels, series, width=460))
        parts.append(f'<div class="plots">{"".join(plots)}</div>')
    rows = []
    for v in ok:
        mark = " ★" if v.name == current else ""
        rows.append([f"<th scope=\"row\">{_esc(v.name)}{mark}</th>", _esc(v.when)]
                    + [_fmt(v.figure(g, "model", m)) for g in ("warm", "cold") for m in OVER_TIME])
    head = ["version", "trained"] + [f"{g} {m}" for g in ("warm", "cold") for m in OVER_TIME]
    parts.append(_table(head, rows, "the model's figures per version (★ current)"))
    return "\n".join(parts)


def _promotion_section(versions: list[Version], current: str | None) -> str:
    rows = []
    for v in versions:
        if v.error is not None:
            rows.append([f'<th scope="row">{_esc(v.name)}</th>', "–", "unreadable", _esc(v.error),
                         "–", "–", "–", "–"])
            continue
        p = v.promotion
        promoted = p.get("promoted")
        state = "yes" if promoted else "no" if promoted is not None else "?"
        if v.name == current:
            state += " (current)"
        pair = v.paired()
        diff = "–" if pair["diff"] is None else f"{pair['diff']:+.4f}"
        if pair["ci"]:
            diff += f" ({pair['ci'][0]:+.4f} to {pair['ci'][1]:+.4f})"
        rows.append([f'<th scope="row">{_esc(v.name)}</th>',
                     _esc(p.get("current_before") or "none"), _esc(state), _esc(p.get("reason") or ""),
                     _fmt(pair["new"]), _fmt(pair["old"]), _esc(diff),
                     "–" if pair["residents"] is None else f"{int(pair['residents']):,}"])
    head = ["version (trained at)", "compared with", "promoted", "reason", f"{PRIMARY} of this version",
            "of the current model", "difference (95% interval)", "residents"]
    return ('<h2 id="promotions">Promotion decisions</h2>'
            "<p>A version becomes current only when it beats the current model on the same residents "
            "(or with --force); the two figures, their paired difference and how many residents it rests "
            "on are what the decision was made on.</p>"
            + _table(head, list(reversed(rows)), "newest first"))


def _numeric_rows(node, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict]]:
    """Every dict in a nested structure whose values are all numbers (or None): (key path, dict)."""
    if not isinstance(node, dict) or not node:
        return []
    if all(isinstance(v, (int, float)) or v is None for v in node.values()):
        return [(path, node)]
    out = []
    for key, value in node.items():
        out += _numeric_rows(value, (*path, str(key)))
    return out


EQUITY_FIGURES = ("ndcg@10", "need_coverage@5", "eligible_share")


def _equity_audit(groups: dict) -> list[str]:
    """The equity audit's layout (``training.equity.group_metrics``): population -> grouping ->
    {"groups": {label: {"n", ranker: {figure: value}}}, "worst_to_best", "worst"}. One table and one
    plot of the model's ndcg@10 per population and grouping; [] when ``groups`` has another shape."""
    min_group = groups.get("min_group") if isinstance(groups.get("min_group"), int) else None
    parts = []
    for population in ("warm", "cold"):
        by_grouping = groups.get(population)
        if not isinstance(by_grouping, dict):
            continue
        for grouping, block in by_grouping.items():
            members = block.get("groups") if isinstance(block, dict) else None
            if not isinstance(members, dict) or not members:
                continue
            rankers = [r for r in ("model", "need_match", "popularity")
                       if any(isinstance(m, dict) and isinstance(m.get(r), dict) for m in members.values())]
            rows, bars = [], []
            for label, m in members.items():
                if not isinstance(m, dict):
                    continue
                n = m.get("n") if isinstance(m.get("n"), int) else None
                small = min_group is not None and n is not None and n < min_group
                model = m.get("model") if isinstance(m.get("model"), dict) else {}
                cells = [f'<th scope="row">{_esc(label)}{" (small)" if small else ""}</th>', "–" if n is None else f"{n:,}"]
                cells += [_fmt(model.get(f)) if isinstance(model.get(f), (int, float)) else "–" for f in EQUITY_FIGURES]
                cells += [_fmt((m.get(r) or {}).get(PRIMARY)) if isinstance((m.get(r) or {}).get(PRIMARY), (int, float))
                          else "–" for r in rankers if r != "model"]
                rows.append(cells)
                if not small and label != "not given" and isinstance(model.get(PRIMARY), (int, float)):
                    bars.append((str(label), [(PRIMARY, float(model[PRIMARY]), COLORS["model"])]))
            worst = (block.get("worst") or {}).get("model") if isinstance(block.get("worst"), dict) else None
            ratio = (block.get("worst_to_best") or {}).get("model") if isinstance(block.get("worst_to_best"), dict) else None
            notes = []
            for f in EQUITY_FIGURES:
                w = (worst or {}).get(f) if isinstance(worst, dict) else None
                r = (ratio or {}).get(f) if isinstance(ratio, dict) else None
                if w is not None:
                    notes.append(f"{f}: worst {w}" + (f" at {r:.2f} of the best" if isinstance(r, (int, float)) else ""))
            title = f"{population} residents by {grouping.replace('_', ' ')}"
            if len(bars) > 1:
                parts.append(bar_chart(f"model {PRIMARY}, {title}", bars, width=max(460, 46 * len(bars) + 160)))
            head = ["group", "residents", *(f"model {f}" for f in EQUITY_FIGURES),
                    *(f"{r} {PRIMARY}" for r in rankers if r != "model")]
            parts.append(_table(head, rows, title + (" — " + "; ".join(notes) if notes else "")))
    if parts and min_group is not None:
        parts.insert(0, f"<p>Groups of fewer than {min_group} residents are marked (small) and, like residents "
                        "whose field is not given, left out of the plots and of the worst-to-best comparison: a "
                        "handful of residents makes any ratio noise.</p>")
    return parts


def _equity_section(v: Version) -> str:
    groups = v.metrics.get("groups")
    if not groups:
        return ('<h2 id="equity">Per-group equity</h2><p>This model\'s metrics.json has no per-group figures '
                "(<code>groups</code>); models trained with a version that writes them show them here.</p>")
    parts = ['<h2 id="equity">Per-group equity</h2>',
             "<p>The current model's figures for groups of residents, as recorded in its metrics.json.</p>"]
    structured = _equity_audit(groups)
    if structured:
        return "\n".join(parts + structured)
    rows = _numeric_rows(groups)
    by_top: dict[str, list[tuple[tuple[str, ...], dict]]] = {}
    for path, leaf in rows:
        by_top.setdefault(path[0] if path else "all", []).append((path[1:] if path else path, leaf))
    for top, items in by_top.items():
        columns: list[str] = []
        for _, leaf in items:
            columns += [c for c in leaf if c not in columns]
        table_rows = [[f"<th scope=\"row\">{_esc(' / '.join(p) or top)}</th>"]
                      + [_fmt(leaf.get(c)) if isinstance(leaf.get(c), float) else _esc(leaf.get(c, "–"))
                         for c in columns] for p, leaf in items]
        metric = PRIMARY if PRIMARY in columns else next((c for c in columns if not c.startswith("n")), None)
        if metric and len(items) > 1:
            bars = [(" / ".join(p) or top, [(metric, leaf.get(metric), COLORS["model"])]) for p, leaf in items]
            parts.append(bar_chart(f"{metric} by {top}", bars, width=max(660, 60 * len(bars) + 200)))
        parts.append(_table(["group", *columns], table_rows, str(top)))
    return "\n".join(parts)


def _timing_section(v: Version) -> str:
    timing = v.metrics.get("timing") or {}
    if not timing:
        return ""
    order = {k: i for i, k in enumerate(TIMING)}  # pipeline order (metrics.json keeps keys sorted)
    rows = [[f'<th scope="row">{_esc(timing_label(k))}</th>', f"{t:.1f} s" if isinstance(t, (int, float)) else _esc(t)]
            for k, t in sorted(timing.items(), key=lambda kv: order.get(kv[0], len(order) - 1.5))]
    return '<h2 id="timing">Training time of the current model</h2>' + _table(["phase", "time"], rows)


def _legend_section() -> str:
    items = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(t)}</dd>" for k, t in [*METRICS, *RANKERS.items(), *GROUPS.items()])
    return f'<h2 id="legend">Legend</h2><dl>{items}</dl>'


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;margin:0 auto;
max-width:1000px;padding:1rem 1.5rem;color:#111827;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d1d5db;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.85rem}caption{text-align:left;font-weight:600;padding:.3rem 0;max-width:26rem}
th,td{border:1px solid #d1d5db;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}thead th{background:#f3f4f6}
svg{display:block;margin:.6rem 0;max-width:100%;height:auto}dt{font-weight:600;margin-top:.4rem}dd{margin-left:1rem}
nav a{margin-right:1rem}.scroll{overflow-x:auto}.plots{display:flex;flex-wrap:wrap;gap:0 1.5rem}.muted{color:#4b5563}
"""


def render_report(models_dir: str | Path, *, now: dt.datetime | None = None) -> str:
    """The report as one HTML document (no script, no external resource)."""
    versions, current = collect(models_dir)
    now = now or dt.datetime.now(dt.timezone.utc)
    cur = next((v for v in versions if v.name == current and v.error is None), None)
    body = [f"<h1>servicematch: trainer's report</h1>",
            f'<p class="muted">{len(versions)} model version(s) in {_esc(Path(models_dir).name or models_dir)}; '
            f"current: {_esc(current or 'none')}; generated {now.strftime('%Y-%m-%d %H:%M UTC')}.</p>",
            '<nav aria-label="sections"><a href="#current">current model</a><a href="#over-time">over time</a>'
            '<a href="#equity">equity</a><a href="#promotions">promotions</a><a href="#legend">legend</a></nav>']
    if not versions:
        body.append("<p>No model versions yet: train one with <code>servicematch train</code>.</p>")
    if cur is not None:
        body.append(_current_section(cur))
    body.append(_over_time_section(versions, current))
    if cur is not None:
        body.append(_equity_section(cur))
    body.append(_promotion_section(versions, current))
    if cur is not None:
        body.append(_timing_section(cur))
    body.append(_legend_section())
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>servicematch models report</title><style>{STYLE}</style></head><body>"
            + "\n".join(b for b in body if b) + "</body></html>\n")


def write_report(models_dir: str | Path, out: str | Path) -> Path:
    """Write the report atomically (a reader sees the old page or the new one)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, render_report(models_dir).encode("utf-8"))
    return out
