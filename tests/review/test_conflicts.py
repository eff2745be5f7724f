"""回避 rules one by one, with the 3-year boundary and every public webmail exclusion."""
from __future__ import annotations

from datetime import date

import pytest

from incubator.review.conflicts import (
    PUBLIC_WEBMAIL_DOMAINS,
    RELATION_KINDS,
    Applicant,
    Expert,
    Relation,
    detect,
    reason_text,
    years_before,
)

ON = date(2026, 6, 1)
USCC = "51440300MJL123456X"


def applicant(**kw):
    base = dict(id=1, org_id=500, uscc=USCC, email_domains=("shequ.org.cn",))
    return Applicant(**{**base, **kw})


def pairs(apps, experts, **kw):
    return detect(apps, experts, on=kw.pop("on", ON), **kw)


def test_no_tie_no_conflict():
    assert pairs([applicant()], [Expert(id=9, employer_org_id=501, employer_uscc="OTHER", email_domain="pku.edu.cn",
                                        relations=(Relation(501, "employed"),))]) == {}


@pytest.mark.parametrize("employer", [dict(employer_org_id=500), dict(employer_uscc=USCC.lower() + " ")])
def test_current_employer_is_the_applicant(employer):
    assert pairs([applicant()], [Expert(id=9, **employer)]) == {(1, 9): ["现任职于申报单位"]}


def test_employer_matches_by_uscc_when_the_application_has_no_org_id_and_not_without_uscc():
    assert (1, 9) in pairs([applicant(org_id=None)], [Expert(id=9, employer_uscc=USCC)])
    # a not-yet-registered organisation has no USCC: an expert without an employer code is no match
    assert pairs([applicant(uscc=None)], [Expert(id=9, employer_uscc="")]) == {}


@pytest.mark.parametrize("kind", RELATION_KINDS)
@pytest.mark.parametrize("org", [500, USCC])
def test_every_declared_relation_kind_counts_by_org_id_or_uscc(kind, org):
    found = pairs([applicant()], [Expert(id=9, relations=((org, kind, date(2020, 1, 1), None),))])
    assert list(found) == [(1, 9)]
    assert found[(1, 9)][0].startswith(("近三年", "与申报单位"))


@pytest.mark.parametrize("end, conflicted", [
    (date(2023, 6, 1), True),   # exactly three years before the draw: still within
    (date(2023, 5, 31), False),  # one day earlier: over
    (date(2026, 5, 31), True),
    (None, True),  # still going on
    (date(2027, 1, 1), True),  # ends in the future
])
@pytest.mark.parametrize("kind", ["employed", "director", "mentoring", "joint_project"])
def test_three_year_boundary(kind, end, conflicted):
    found = pairs([applicant()], [Expert(id=9, relations=(Relation(500, kind, date(2019, 1, 1), end),))])
    assert ((1, 9) in found) is conflicted


def test_three_years_before_a_leap_day():
    assert years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)
    rel = lambda end: Expert(id=9, relations=(Relation(500, "advisor", None, end),))  # noqa: E731
    assert (1, 9) in pairs([applicant()], [rel(date(2025, 2, 28))], on=date(2028, 2, 29))
    assert pairs([applicant()], [rel(date(2025, 2, 27))], on=date(2028, 2, 29)) == {}


def test_a_relation_with_another_organisation_is_no_conflict():
    other = Expert(id=9, relations=(Relation(501, "director"), Relation("X" * 18, "employed")))
    assert pairs([applicant()], [other]) == {}


def test_unknown_relation_kind_is_refused():
    with pytest.raises(ValueError):
        Relation(500, "friend")


def test_same_email_domain_case_insensitive():
    found = pairs([applicant(email_domains=("Shequ.ORG.cn", "qq.com"))], [Expert(id=9, email_domain="@shequ.org.cn")])
    assert found == {(1, 9): ["电子邮箱与申报单位联系人同域（shequ.org.cn）"]}
    # a subdomain is another domain, and so is a different one
    assert pairs([applicant()], [Expert(id=9, email_domain="mail.shequ.org.cn")]) == {}


@pytest.mark.parametrize("domain", sorted(PUBLIC_WEBMAIL_DOMAINS))
def test_public_webmail_never_links_expert_and_applicant(domain):
    assert pairs([applicant(email_domains=(domain,))], [Expert(id=9, email_domain=domain.upper())]) == {}


def test_the_listed_webmail_domains_are_excluded():
    for d in ("qq.com", "163.com", "126.com", "foxmail.com", "sina.com", "gmail.com",
              "sohu.com", "yeah.net", "139.com", "outlook.com", "hotmail.com", "yahoo.com"):
        assert d in PUBLIC_WEBMAIL_DOMAINS


def test_earlier_round_reviewer_optional():
    apps = [applicant(earlier_reviewers=(9, 404))]
    experts = [Expert(id=9), Expert(id=10)]
    assert pairs(apps, experts) == {(1, 9): ["已在前一轮评审过该申请"]}
    assert pairs(apps, experts, earlier_rounds=False) == {}


def test_several_reasons_are_all_given_and_pairs_feed_the_solver():
    apps = [applicant(), applicant(id=2, org_id=600, uscc=None, email_domains=("x.org",))]
    ex = Expert(id=9, employer_org_id=500, email_domain="shequ.org.cn",
                relations=(Relation(500, "director", None, None),
                           Relation(600, "joint_project", None, date(2024, 1, 1))))
    found = pairs(apps, [ex, Expert(id=10)])
    assert set(found) == {(1, 9), (2, 9)}
    assert found[(1, 9)] == sorted(["现任职于申报单位", "近三年曾任申报单位理事（董事）",
                                    "电子邮箱与申报单位联系人同域（shequ.org.cn）"])
    assert reason_text(found[(2, 9)]) == "近三年与申报单位有合作项目"


def test_several_applications_of_one_organisation_are_all_found():
    apps = [applicant(id=i) for i in range(1, 6)]
    found = pairs(apps, [Expert(id=9, relations=((USCC, "supervisor", None, None),))])
    assert sorted(found) == [(i, 9) for i in range(1, 6)]
