"""The default contract clauses: every placeholder is one the project fills (a renamed placeholder once
printed "{{资助金额大写}}" in every grant agreement)."""
from __future__ import annotations

import pytest

from incubator.projects.contracts.clauses import DEFAULT_CLAUSES, placeholders_in, unknown_placeholders


@pytest.mark.parametrize("kind", sorted(DEFAULT_CLAUSES))
def test_default_clauses_use_only_known_placeholders(kind):
    for clause in DEFAULT_CLAUSES[kind]:
        assert unknown_placeholders(clause["heading"] + clause["body"]) == [], (kind, clause["heading"])


@pytest.mark.parametrize("kind", sorted(DEFAULT_CLAUSES))
def test_both_kinds_state_the_amount_in_words_and_figures(kind):
    used = {p for clause in DEFAULT_CLAUSES[kind] for p in placeholders_in(clause["body"])}
    assert {"合同金额大写", "合同金额"} <= used, kind


def test_an_unknown_placeholder_is_found():
    assert unknown_placeholders("人民币{{资助金额大写}}") == ["资助金额大写"]
