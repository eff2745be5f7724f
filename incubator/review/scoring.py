"""Scores: weighted totals, the official score, calibration, disagreement and ranking. Plain data, Decimal.

Numbers are `Decimal` (or int / numeric str) — never float: a float argument raises TypeError.
Raw scores are never changed; every function returns new values. Rounding is ROUND_HALF_UP to
2 decimals, done once, on exact intermediate values (fractions.Fraction).

weighted_total  Each criterion has `max_points` (what the expert may give) and `weight` (the points it is
                worth in the 100-point total). total = Σ score_c × weight_c / max_points_c, to 2 decimals.
                When max_points = weight (the usual rubric whose maxima add up to 100) it is the plain sum.
official_score  Default rule (DOMAIN.md "Experts"): with at least 5 totals drop one highest and one lowest
                and average the rest; with fewer, the plain mean; to 2 decimals.
calibrated_*    Expert leniency correction within a field (advice shown beside the official score) — see
                `calibrated_reviews`.
spread / std_dev / strong_disagreement   Range and population standard deviation of one application's totals.
rank            Ordering with stated tie-breaks (`DEFAULT_TIE_BREAKS`, described by `describe_tie_breaks`).
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

PLACES = 2
HUNDRED = Decimal(100)

Number = Decimal | int | str


def _frac(value: Number | Fraction) -> Fraction:
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError("scores must be Decimal, int or str, never float or bool")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        value = Decimal(value.strip())
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("scores must be finite")
    return Fraction(value)


def round_half_up(value: Number | Fraction, places: int = PLACES) -> Decimal:
    """Exact ROUND_HALF_UP of a Fraction/Decimal/int to `places` decimals."""
    f = _frac(value)
    scale = 10 ** places
    scaled = abs(f) * scale
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    if f < 0:
        q = -q
    return (Decimal(q) / Decimal(scale)).quantize(Decimal(1).scaleb(-places))


# --------------------------------------------------------------------------- weighted total


@dataclass(frozen=True)
class Criterion:
    key: str
    max_points: Decimal
    weight: Decimal
    label: str = ""


def validate_criteria(criteria: Sequence[Criterion], total: Number = HUNDRED) -> None:
    """Raise ValueError unless keys are unique, max points and weights positive and weights add up to `total`."""
    keys = [c.key for c in criteria]
    if not criteria or len(set(keys)) != len(keys):
        raise ValueError("评分细则须至少有一项，且各项不重复")
    for c in criteria:
        if _frac(c.max_points) <= 0 or _frac(c.weight) <= 0:
            raise ValueError(f"评分项「{c.label or c.key}」的满分和权重须大于 0")
    if sum(_frac(c.weight) for c in criteria) != _frac(total):
        raise ValueError(f"各评分项权重合计须为 {total} 分")


def weighted_total(scores_by_criterion: Mapping[str, Number], criteria: Sequence[Criterion]) -> Decimal:
    """Σ score × weight / max_points over all criteria, ROUND_HALF_UP to 2 decimals.

    Every criterion must be scored, within [0, max_points]; unknown keys are refused (ValueError).
    """
    known = {c.key for c in criteria}
    extra = set(scores_by_criterion) - known
    if extra:
        raise ValueError(f"未知评分项：{', '.join(sorted(map(str, extra)))}")
    total = Fraction(0)
    for c in criteria:
        if c.key not in scores_by_criterion or scores_by_criterion[c.key] is None:
            raise ValueError(f"评分项「{c.label or c.key}」未评分")
        s, top = _frac(scores_by_criterion[c.key]), _frac(c.max_points)
        if s < 0 or s > top:
            raise ValueError(f"评分项「{c.label or c.key}」的分数须在 0 至 {c.max_points} 之间")
        total += s * _frac(c.weight) / top
    return round_half_up(total)


# --------------------------------------------------------------------------- official score


@dataclass(frozen=True)
class AggregationRule:
    """Drop `drop_each` highest and lowest totals when there are at least `trim_from` of them, then average.

    trim_from=None (or `MEAN`) always takes the plain mean.
    """

    trim_from: int | None = 5
    drop_each: int = 1
    places: int = PLACES

    def __post_init__(self):
        if self.trim_from is not None and self.trim_from <= 2 * self.drop_each:
            raise ValueError("trimming must leave at least one score")


TRIMMED_MEAN = AggregationRule()
MEAN = AggregationRule(trim_from=None)


def _dec(value: Number) -> Decimal:
    _frac(value)  # refuses float, bool and non-finite values
    return value if isinstance(value, Decimal) else Decimal(value.strip() if isinstance(value, str) else value)


def kept_scores(totals: Iterable[Number], rule: AggregationRule = TRIMMED_MEAN) -> list[Decimal]:
    """The totals the official score averages (a sorted copy; the input is untouched)."""
    values = sorted(_dec(t) for t in totals)
    if rule.trim_from is not None and len(values) >= rule.trim_from:
        values = values[rule.drop_each:len(values) - rule.drop_each]
    return values


def official_score(totals: Iterable[Number], rule: AggregationRule = TRIMMED_MEAN) -> Decimal | None:
    """Mean of `kept_scores`, ROUND_HALF_UP to `rule.places`; None when there is no score."""
    kept = kept_scores(totals, rule)
    if not kept:
        return None
    return round_half_up(sum(map(_frac, kept), Fraction(0)) / len(kept), rule.places)


# --------------------------------------------------------------------------- spread


def _mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def _pstd(values: Sequence[Fraction]) -> Decimal:
    """Population standard deviation (divide by n), as a 28-digit Decimal."""
    mu = _mean(values)
    var = sum(((v - mu) ** 2 for v in values), Fraction(0)) / len(values)
    with localcontext() as ctx:
        ctx.prec = 28
        return (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()


def spread(totals: Iterable[Number]) -> Decimal:
    """Highest minus lowest total (0 for fewer than two)."""
    values = [_frac(t) for t in totals]
    return round_half_up(max(values) - min(values)) if values else Decimal("0.00")


def std_dev(totals: Iterable[Number]) -> Decimal:
    """Population standard deviation of the totals, to 2 decimals (0 for fewer than two)."""
    values = [_frac(t) for t in totals]
    return round_half_up(_frac(_pstd(values))) if len(values) > 1 else Decimal("0.00")


STRONG_RANGE = Decimal(20)
STRONG_STD = Decimal(10)


def strong_disagreement(totals: Iterable[Number], *, range_at_least: Number = STRONG_RANGE,
                        std_at_least: Number | None = STRONG_STD) -> bool:
    """True when highest − lowest ≥ `range_at_least` or the population std ≥ `std_at_least` (None: off)."""
    values = [_frac(t) for t in totals]
    if len(values) < 2:
        return False
    if max(values) - min(values) >= _frac(range_at_least):
        return True
    return std_at_least is not None and _frac(_pstd(values)) >= _frac(std_at_least)


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class Review:
    """One expert's weighted total for one application, in the application's field."""

    application: int
    expert: int
    field: str
    total: Number


def _calibrated_exact(reviews: Iterable[Review], max_score: Number) -> dict[tuple[int, int], Fraction]:
    by_field: dict[str, list[Review]] = defaultdict(list)
    for r in reviews:
        by_field[r.field].append(r)
    top = _frac(max_score)
    out: dict[tuple[int, int], Fraction] = {}
    for rows in by_field.values():
        all_totals = [_frac(r.total) for r in rows]
        mu_f, sd_f = _mean(all_totals), _frac(_pstd(all_totals))
        per_expert: dict[int, list[Fraction]] = defaultdict(list)
        for r in rows:
            per_expert[r.expert].append(_frac(r.total))
        stats = {e: (_mean(v), _frac(_pstd(v))) for e, v in per_expert.items()}
        for r in rows:
            mu_e, sd_e = stats[r.expert]
            z = (_frac(r.total) - mu_e) / sd_e if sd_e else Fraction(0)
            out[(r.application, r.expert)] = min(max(mu_f + z * sd_f, Fraction(0)), top)
    return out


def calibrated_reviews(reviews: Iterable[Review], max_score: Number = HUNDRED) -> dict[tuple[int, int], Decimal]:
    """Each review's total corrected for the expert's leniency within the field, to 2 decimals.

    For a field f with all its totals s (every expert, every application):
      μ_f, σ_f      mean and population standard deviation (divide by n) of all totals in f;
      μ_e, σ_e      the same over expert e's own totals in f;
      z = (s − μ_e) / σ_e, and z = 0 when σ_e = 0 (an expert with one score, or equal scores);
      calibrated = μ_f + z × σ_f, clamped to [0, max_score].
    So an expert who gives everyone 90 where the field averages 70 contributes 70 for each; an expert's
    best application in the field moves up by σ_f per standard deviation of their own scale.
    Square roots are taken to 28 significant digits. Keys are (application id, expert id).
    An expert should review each application once per round; a repeated pair keeps the last review.
    """
    return {pair: round_half_up(v) for pair, v in _calibrated_exact(reviews, max_score).items()}


def calibrated_scores(reviews: Iterable[Review], max_score: Number = HUNDRED) -> dict[int, Decimal]:
    """Per application: the plain mean of its calibrated reviews (before their rounding), to 2 decimals.

    Advice shown beside the official score; it never replaces it.
    """
    per_app: dict[int, list[Fraction]] = defaultdict(list)
    for (app, _expert), value in _calibrated_exact(reviews, max_score).items():
        per_app[app].append(value)
    return {a: round_half_up(_mean(v)) for a, v in per_app.items()}


# --------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class RankEntry:
    application: int
    number: str  # 申报编号, e.g. "WCT-2026-0001"
    official: Decimal | None
    calibrated: Decimal | None = None
    n_scores: int = 0


def natural_key(number: str) -> tuple:
    """'WCT-2026-0012' < 'WCT-2026-0100': digit runs compare as numbers."""
    parts = re.split(r"(\d+)", number or "")
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _desc(value) -> tuple:
    """Sort key putting larger values first and missing (None) values last."""
    return (1, 0) if value is None else (0, -value)


TIE_BREAKS: dict[str, tuple[str, object]] = {
    "official_desc": ("正式得分高者在前", lambda e: _desc(e.official)),
    "calibrated_desc": ("校准分高者在前", lambda e: _desc(e.calibrated)),
    "n_scores_desc": ("评分专家人数多者在前", lambda e: -e.n_scores),
    "number_asc": ("申报编号小者在前", lambda e: natural_key(e.number)),
}
DEFAULT_TIE_BREAKS = ("official_desc", "calibrated_desc", "n_scores_desc", "number_asc")


def describe_tie_breaks(tie_breaks: Sequence[str] = DEFAULT_TIE_BREAKS) -> str:
    """The ranking rule in words, for the ranking page and the score sheet."""
    first, *rest = (TIE_BREAKS[t][0] for t in tie_breaks)
    text = f"排序：{first}"
    if rest:
        text += "；相同时依次比较：" + "，".join(rest)
    return text + "。"


def rank(entries: Iterable[RankEntry], tie_breaks: Sequence[str] = DEFAULT_TIE_BREAKS) -> list[tuple[int, RankEntry]]:
    """[(position, entry)], position 1, 2, 3 … in order.

    Default order: official score (high first; no score last), then calibrated score (high first),
    then the number of experts who scored (more first), then the application number (ascending,
    digit runs compared as numbers). Entries equal on every key share a position ("1, 1, 3").
    """
    unknown = [t for t in tie_breaks if t not in TIE_BREAKS]
    if unknown or not tie_breaks:
        raise ValueError(f"unknown tie-breaks {unknown}; use {', '.join(TIE_BREAKS)}")
    keys = [TIE_BREAKS[t][1] for t in tie_breaks]

    def key(e: RankEntry) -> tuple:
        return tuple(k(e) for k in keys)

    ordered = sorted(entries, key=key)
    out: list[tuple[int, RankEntry]] = []
    for i, e in enumerate(ordered):
        position = out[-1][0] if out and key(out[-1][1]) == key(e) else i + 1
        out.append((position, e))
    return out
