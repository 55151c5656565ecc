"""The scanner against hard written forms (tests.corpus.hard_forms): every class found exactly, nothing else."""

from __future__ import annotations

import functools
import itertools
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivist.identifiers_text import find_emails, find_phones, identifier_spans, replace_identifiers
from tests.corpus.corpus import Score
from tests.corpus.hard_forms import (
    DISTRACTOR_CLASSES,
    FORM_CLASSES,
    NO_PHONE_FORMS,
    Case,
    PhoneForm,
    distractor_texts,
    hard_cases,
    score_cases,
)

X = "Anonymized"


@functools.cache
def _cases() -> tuple[Case, ...]:
    return tuple(hard_cases())


@functools.cache
def _scores() -> dict[str, Score]:
    return score_cases(_cases())


def _describe(case: Case, identifier: str) -> str:
    found = [case.text[s:e] for s, e in identifier_spans(case.text, (identifier,), case.country)]
    return f"{identifier} in {case.text!r}: replaced {found!r}"


# ---------------------------------------------------------------------------------------------
# The generator itself
# ---------------------------------------------------------------------------------------------


def test_every_form_class_has_cases_with_spans_that_fit_the_text() -> None:
    cases = _cases()
    assert {c.form_class for c in cases} == set(FORM_CLASSES)
    for case in cases:
        spans = sorted(span for _, truth in case.truths for span in truth)
        assert spans, case
        assert all(0 <= s < e <= len(case.text) for s, e in spans), case
        # Two identifiers never share characters: each occurrence has exactly one owner.
        assert all(e <= s2 for (_, e), (s2, _) in itertools.pairwise(spans)), case
        assert not set(case.negatives) & {ident for ident, _ in case.truths}, case


def test_the_cases_and_distractors_are_deterministic() -> None:
    assert hard_cases(seed=5, per_class=3) == hard_cases(seed=5, per_class=3)
    assert hard_cases(seed=5, per_class=3) != hard_cases(seed=6, per_class=3)
    assert distractor_texts(3, 30) == distractor_texts(3, 30)


def test_the_scorer_counts_a_missed_span_and_a_wrongly_replaced_negative() -> None:
    # "912 34 567" is found at its span; the second "true" span holds no number, so it is missed.
    text = "Ring 912 34 567 eller skriv."
    missed = Case("probe", text, "NO", (("+4791234567", ((5, 15), (16, 21))),), ())
    # A negative that is written in the text: every span replaced for it is a false positive.
    taken = Case("probe", text, "NO", (), ("+4791234567",))
    score = score_cases([missed, taken])["probe"]
    assert (score.true_positives, score.false_negatives, score.false_positives) == (1, 1, 1)
    assert score.recall == 0.5
    assert score.precision == 0.5


# ---------------------------------------------------------------------------------------------
# The scanner on every form class
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=FORM_CLASSES)
def test_every_hard_form_is_found_at_exactly_its_span(form_class: str) -> None:
    score = _scores()[form_class]
    wrong = [
        _describe(case, ident)
        for case in _cases()
        if case.form_class == form_class
        for ident, spans in case.truths
        if set(identifier_spans(case.text, (ident,), case.country)) != set(spans)
    ]
    assert (score.recall, score.precision) == (1.0, 1.0), "\n".join(wrong[:10])


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=FORM_CLASSES)
def test_a_stranger_or_a_wrong_reading_replaces_nothing(form_class: str) -> None:
    wrong = [
        _describe(case, ident)
        for case in _cases()
        if case.form_class == form_class
        for ident in case.negatives
        if replace_identifiers(case.text, (ident,), case.country, X) != (case.text, 0)
    ]
    assert not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize("distractor_class", DISTRACTOR_CLASSES, ids=DISTRACTOR_CLASSES)
def test_digits_that_are_nobodys_number_are_never_indexed(distractor_class: str) -> None:
    texts = [text for name, text in distractor_texts(11, 60 * len(DISTRACTOR_CLASSES)) if name == distractor_class]
    read = {text: find_phones(text, "NO") + find_emails(text) for text in texts}
    wrong = [f"{text!r}: {found}" for text, found in read.items() if found]
    assert not wrong, "\n".join(wrong[:10])


# ---------------------------------------------------------------------------------------------
# Property: any Norwegian mobile, in any hard form, inside any text
# ---------------------------------------------------------------------------------------------

# Valid Norwegian mobiles only: an invalid number is nobody's, and erasure rightly leaves it.
no_mobile_nsn = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("49"),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
).filter(lambda nsn: phonenumbers.is_valid_number(phonenumbers.parse(nsn, "NO")))
# Letters and punctuation, no digits: the number's own digits are what is tested.
filler = st.text(alphabet="abcæøå XYZ:,;!?()[]/'\"\n", max_size=20)


@settings(derandomize=True, max_examples=400)
@given(
    nsn=no_mobile_nsn,
    before=filler,
    after=filler,
    distractor_seed=st.integers(min_value=0, max_value=10_000),
    distractor_index=st.integers(min_value=0, max_value=len(DISTRACTOR_CLASSES) - 1),
    data=st.data(),
)
def test_property_a_hard_form_is_replaced_and_the_distractor_beside_it_is_not(
    nsn: str, before: str, after: str, distractor_seed: int, distractor_index: int, data: st.DataObject
) -> None:
    form_class = data.draw(st.sampled_from(sorted(NO_PHONE_FORMS)), label="form_class")
    form: PhoneForm = data.draw(st.sampled_from(NO_PHONE_FORMS[form_class]), label="variant")
    pieces = form.render(nsn)
    _, distractor = distractor_texts(distractor_seed, len(DISTRACTOR_CLASSES))[distractor_index]
    written = "".join(piece for piece, _ in pieces)
    # Tags inside the number stay after the replacement, so the markup around it is not broken.
    replaced = "".join(
        X + "".join(re.findall(r"</?[A-Za-z][^<>]*>", piece)) if marked else piece for piece, marked in pieces
    )
    text = f"{before} {written} {after} {distractor}"
    new, count = replace_identifiers(text, ("+47" + nsn,), "NO", X)
    assert new == f"{before} {replaced} {after} {distractor}", (form.name, text)
    assert count == sum(marked for _, marked in pieces)
