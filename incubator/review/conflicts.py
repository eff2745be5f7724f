"""Conflict of interest detection (回避) over plain data, before any draw.

Rules (DOMAIN.md "Experts", issue 4), for an expert and an application, on the day `on` of the draw:

1. Employer: the expert's current employer is the applicant (same organisation id or USCC).
2. Declared relation with the applicant (by organisation id or USCC) of any kind — employed, director
   (理事/董事), supervisor (监事), controller (实际控制人), advisor (顾问), relative (亲属 of its legal
   representative), mentoring (辅导/导师), joint project (合作项目), other — that has not ended, or ended
   within the last `years` (3) years: `end is None or end >= on − 3 years` (the same calendar day three
   years earlier still counts; 29 February falls back to 28 February). A relation that starts in the
   future also counts (it is declared, so it is known).
3. E-mail domain: the expert's e-mail domain equals one of the applicant's contact e-mail domains,
   except public webmail (`PUBLIC_WEBMAIL_DOMAINS`). Exact match after lower-casing; subdomains
   are different domains.
4. Earlier round (optional, `earlier_rounds=True`): the expert reviewed the same application in an
   earlier round.

The applicant is identified by organisation id and/or USCC (统一社会信用代码, compared upper-cased);
a not-yet-registered organisation simply has no USCC. Detection indexes applications by organisation
id, USCC and e-mail domain and walks each expert's keys, so the cost grows with the data and the
conflicts found, never with applications × experts (10,000 × 500 runs in well under a second).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

# Public webmail: a shared domain says nothing about a shared employer. Source: the examples named in
# issue 4 (qq.com, 163.com, 126.com, foxmail.com, sina.com, gmail.com), completed with the other large
# consumer mail services used in China — NetEase (yeah.net, 188.com, vip.163.com, vip.126.com),
# Tencent (vip.qq.com), Sina (sina.cn, vip.sina.com), Sohu, China Mobile (139.com), China Telecom
# (189.cn, 21cn.com), China Unicom (wo.cn), Alibaba (aliyun.com), TOM — and the international ones
# (Outlook/Hotmail/Live/MSN, Yahoo, iCloud). Extend this list rather than special-casing callers.
PUBLIC_WEBMAIL_DOMAINS: frozenset[str] = frozenset({
    "qq.com", "vip.qq.com", "foxmail.com",
    "163.com", "126.com", "yeah.net", "188.com", "vip.163.com", "vip.126.com",
    "sina.com", "sina.cn", "vip.sina.com",
    "sohu.com",
    "139.com",
    "189.cn", "21cn.com",
    "wo.cn",
    "aliyun.com",
    "tom.com",
    "gmail.com",
    "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "yahoo.com.cn",
    "icloud.com", "me.com",
})

CONFLICT_YEARS = 3

# Relation kinds an expert can declare, with the reason shown to staff (Chinese).
RELATION_REASONS: dict[str, str] = {
    "employed": "近三年曾在申报单位任职",
    "director": "近三年曾任申报单位理事（董事）",
    "supervisor": "近三年曾任申报单位监事",
    "controller": "近三年曾为申报单位实际控制人",
    "advisor": "近三年曾任申报单位顾问",
    "relative": "与申报单位法定代表人有近亲属关系",
    "mentoring": "近三年与申报单位有辅导（导师）关系",
    "joint_project": "近三年与申报单位有合作项目",
    "other": "与申报单位有其他可能影响公正的关系",
}
RELATION_KINDS = tuple(RELATION_REASONS)

REASON_EMPLOYER = "现任职于申报单位"
REASON_EMAIL = "电子邮箱与申报单位联系人同域（{domain}）"
REASON_EARLIER = "已在前一轮评审过该申请"


@dataclass(frozen=True)
class Relation:
    """A declared tie with an organisation: `org` is an organisation id (int) or a USCC (str)."""

    org: int | str
    kind: str
    start: date | None = None
    end: date | None = None  # None: still going on

    def __post_init__(self):
        if self.kind not in RELATION_REASONS:
            raise ValueError(f"unknown relation kind {self.kind!r}; use one of {', '.join(RELATION_KINDS)}")


@dataclass(frozen=True)
class Applicant:
    """The side of an application that matters for conflicts."""

    id: int
    org_id: int | None = None
    uscc: str | None = None
    email_domains: Iterable[str] = ()
    earlier_reviewers: Iterable[int] = ()


@dataclass(frozen=True)
class Expert:
    id: int
    employer_org_id: int | None = None
    employer_uscc: str | None = None
    email_domain: str | None = None
    relations: Iterable[Relation | tuple] = field(default_factory=tuple)


def normalise_domain(domain: str | None) -> str:
    """'Foo@Example.COM' or '@example.com ' → 'example.com'; '' when there is none."""
    if not domain:
        return ""
    return domain.strip().rsplit("@", 1)[-1].strip().rstrip(".").lower()


def _uscc(value: str | None) -> str:
    return (value or "").strip().upper()


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _relation(value: Relation | tuple) -> Relation:
    return value if isinstance(value, Relation) else Relation(*value)


def detect(applications: Iterable[Applicant], experts: Iterable[Expert], *, on: date,
           years: int = CONFLICT_YEARS, earlier_rounds: bool = True,
           public_domains: frozenset[str] = PUBLIC_WEBMAIL_DOMAINS) -> dict[tuple[int, int], list[str]]:
    """All conflicted (application id, expert id) pairs, each with its reasons (Chinese, sorted, unique).

    `set(detect(...))` is the `conflicts` argument of `assignment.solve`.
    """
    by_org: dict[int, list[int]] = defaultdict(list)
    by_uscc: dict[str, list[int]] = defaultdict(list)
    by_domain: dict[str, list[int]] = defaultdict(list)
    earlier: list[tuple[int, Iterable[int]]] = []
    for app in applications:
        if app.org_id is not None:
            by_org[app.org_id].append(app.id)
        code = _uscc(app.uscc)
        if code:
            by_uscc[code].append(app.id)
        for d in {normalise_domain(d) for d in app.email_domains}:
            if d and d not in public_domains:
                by_domain[d].append(app.id)
        if earlier_rounds and app.earlier_reviewers:
            earlier.append((app.id, app.earlier_reviewers))

    def apps_of(org: int | str | None) -> list[int]:
        if org is None:
            return []
        if isinstance(org, str):
            return by_uscc.get(_uscc(org), [])
        return by_org.get(org, [])

    since = years_before(on, years)
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    expert_ids = set()
    for ex in experts:
        expert_ids.add(ex.id)
        for org in (ex.employer_org_id, ex.employer_uscc or None):
            for a in apps_of(org):
                found[(a, ex.id)].add(REASON_EMPLOYER)
        for rel in map(_relation, ex.relations):
            if rel.end is not None and rel.end < since:
                continue
            reason = RELATION_REASONS[rel.kind]
            for a in apps_of(rel.org):
                found[(a, ex.id)].add(reason)
        d = normalise_domain(ex.email_domain)
        if d and d not in public_domains:
            reason = REASON_EMAIL.format(domain=d)
            for a in by_domain.get(d, []):
                found[(a, ex.id)].add(reason)
    for a, reviewers in earlier:
        for e in reviewers:
            if e in expert_ids:
                found[(a, e)].add(REASON_EARLIER)
    return {pair: sorted(reasons) for pair, reasons in found.items()}


def reason_text(reasons: Iterable[str]) -> str:
    return "；".join(reasons)


def as_pairs(found: Mapping[tuple[int, int], object]) -> set[tuple[int, int]]:
    return set(found)
