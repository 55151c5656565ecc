"""Unit tests for archivist.identifiers_text: phone numbers and email addresses found and replaced in text."""

from __future__ import annotations

import pytest

from archivist.archive.mentions import MentionKeyring
from archivist.identifiers_text import (
    find_emails,
    find_phones,
    identifiers_of,
    mask_written,
    name_forms,
    replace_identifier,
    replace_identifiers,
)
from tests.corpus.corpus import evaluate, generate_corpus

NO = "+4791234567"
SE = "+46701234567"
X = "Anonymized"


def _numbers(text: str, country: str = "NO") -> set[str]:
    return {e164 for _, _, e164 in find_phones(text, country)}


# ---------------------------------------------------------------------------------------------
# Found, in every written form
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Ring meg på 91234567.", "91234567"),  # national digits
        ("Nummeret er 912 34 567, takk", "912 34 567"),  # 3-2-3 grouping
        ("tlf 91 23 45 67", "91 23 45 67"),  # pairs
        ("mobil: 912-34-567", "912-34-567"),  # dashes
        ("call 9123 4567 after six", "9123 4567"),  # 4-4 grouping
        ("912.34.567 er nummeret", "912.34.567"),  # dots
        ("reach me on +47 912 34 567!", "+47 912 34 567"),  # + and country code
        ("0047 91234567 hele dagen", "0047 91234567"),  # 00 and country code
        ("Tlf. (+47) 912 34 567", "(+47) 912 34 567"),  # bracketed country code, bracket included
        ("+47-912-34-567", "+47-912-34-567"),  # + form with dashes
        ("callback 4791234567", "4791234567"),  # country code without + (platform style)
        ("+4791234567", "+4791234567"),  # E.164
        ("91\u00a023\u00a045\u00a067 (nbsp)", "91\u00a023\u00a045\u00a067"),  # non-breaking spaces
        ("2024-03-12 91234567", "91234567"),  # a timestamp in front does not hide it
        ("91234567/98765432", "91234567"),  # two numbers separated by a slash
    ],
)
def test_every_written_form_of_a_norwegian_number_is_found_and_replaced(text: str, written: str) -> None:
    assert NO in _numbers(text)
    new, count = replace_identifier(text, NO, "NO", X)
    assert count == 1
    assert new == text.replace(written, X, 1)


@pytest.mark.parametrize(
    ("text", "written", "e164"),
    [
        ("Svensk nummer 070-123 45 67", "070-123 45 67", SE),  # foreign number in its own national form
        ("ring 0046 70 123 45 67", "0046 70 123 45 67", SE),  # 00 form
        ("ring +46 70 123 45 67", "+46 70 123 45 67", SE),  # + form
        ("dansk +45 9123 4567", "+45 9123 4567", "+4591234567"),  # DK, international
        ("UK mobile 07400 123456", "07400 123456", "+447400123456"),  # GB national with trunk 0
        ("Berlin: 030 1234567", "030 1234567", "+49301234567"),  # DE national with trunk 0
        ("US office (201) 555-0123", "(201) 555-0123", "+12015550123"),  # NANP written without the trunk 1
        ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958", "+442079460958"),  # GB with the (0) people write
    ],
)
def test_foreign_numbers_are_found_in_international_and_national_form(text: str, written: str, e164: str) -> None:
    assert e164 in _numbers(text)
    new, count = replace_identifier(text, e164, "NO", X)
    assert (new, count) == (text.replace(written, X), 1)


# ---------------------------------------------------------------------------------------------
# Never touched: numbers that merely share digits
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Ordrenummer 1912345678",  # order number containing the digits
        "ordre 91234567-01",  # order number glued by a dash
        "ordre 12-91234567",  # the digits at the end of a dashed reference
        "ref 47-91234567",  # a dashed reference that starts like the country code
        "faktura 912345678",  # one digit more
        "ref 9123456",  # one digit less
        "ring 91234568 i stedet",  # another person's number, one digit off
        "dansk nummer +45 9123 4567",  # same national digits, another country
        "+45 91 23 45 67",  # ditto, in pairs
        "0045 91234567",  # ditto, 00 form
        "kunde91234567",  # glued to a word: an id, not a number
        "kari.91234567@sms.example.com",  # inside a local part that is more than the number
        "beløp 9 123 456,70 kr",  # an amount
        "postnummer 0150 Oslo, 9123",  # postcode and a short number
        "dato 12.03.2024 kl 14.30",  # date and time
    ],
)
def test_numbers_that_share_digits_are_never_replaced(text: str) -> None:
    assert replace_identifier(text, NO, "NO", X) == (text, 0)


def test_a_home_number_is_never_read_as_a_neighbours_national_number() -> None:
    # DK numbers are 8 digits too: "91234567" in a NO solution is the Norwegian subscriber.
    assert _numbers("91234567") == {NO}
    assert replace_identifier("ring 91234567", "+4591234567", "NO", X) == ("ring 91234567", 0)


def test_the_company_number_is_left_when_the_customer_number_is_replaced() -> None:
    text = "Du ringte 22 33 44 55 fra 912 34 567"
    assert replace_identifier(text, NO, "NO", X) == (f"Du ringte 22 33 44 55 fra {X}", 1)


def test_every_occurrence_is_replaced_and_counted() -> None:
    text = "912 34 567, +47 912 34 567 og 0047-912-34-567; ikke 91234568"
    assert replace_identifier(text, NO, "NO", X) == (f"{X}, {X} og {X}; ikke 91234568", 3)


def test_a_swedish_solution_reads_national_numbers_as_swedish() -> None:
    assert SE in _numbers("ring 070-123 45 67", "SE")
    # In SE, "91234567" is no Swedish number; it is not the Norwegian one either (no country code).
    assert NO not in _numbers("ring 91234567", "SE")


# ---------------------------------------------------------------------------------------------
# Email addresses and names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("skriv til kari.nordmann@example.com.", "kari.nordmann@example.com"),  # sentence end
        ("KARI.NORDMANN@EXAMPLE.COM", "KARI.NORDMANN@EXAMPLE.COM"),  # upper case
        ("<Kari.Nordmann@Example.com>", "Kari.Nordmann@Example.com"),  # in angle brackets
        ("mailto:kari.nordmann@example.com?subject=x", "kari.nordmann@example.com"),  # mailto link
    ],
)
def test_an_address_is_found_in_any_case(text: str, written: str) -> None:
    assert [a for _, _, a in find_emails(text)] == ["kari.nordmann@example.com"]
    assert replace_identifier(text, "kari.nordmann@example.com", "NO", X) == (text.replace(written, X), 1)


@pytest.mark.parametrize(
    "text",
    [
        "ola+kari.nordmann@example.com",  # a longer local part
        "kari.nordmann@example.com.au",  # a longer domain
        "xkari.nordmann@example.com",  # another address ending the same way
    ],
)
def test_a_longer_address_is_not_the_address(text: str) -> None:
    assert replace_identifier(text, "kari.nordmann@example.com", "NO", X) == (text, 0)


def test_names_are_replaced_as_whole_words_but_not_inside_addresses() -> None:
    text = "Hei Kari! Kari Nordmann her. Olav Karisen og kari.hansen@example.com er ikke henne."
    new, count = replace_identifiers(text, (), "NO", X, name_forms("Kari Nordmann"))
    assert new == f"Hei {X}! {X} her. Olav Karisen og kari.hansen@example.com er ikke henne."
    assert count == 2


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("Kari Nordmann", ("Kari Nordmann", "Kari", "Nordmann")),  # full name first, then its parts
        ("  Jan   van Dijk ", ("Jan van Dijk", "Jan", "Dijk")),  # lower-case particle alone is a word
        ("O. Hansen", ("O. Hansen", "O.", "Hansen")),  # an initial with its dot is still a form
        (None, ()),  # no name
        ("", ()),  # empty name
    ],
)
def test_name_forms(name: str | None, forms: tuple[str, ...]) -> None:
    assert name_forms(name) == forms


# ---------------------------------------------------------------------------------------------
# The index key
# ---------------------------------------------------------------------------------------------


def test_mention_keys_are_per_solution_and_need_the_secret() -> None:
    keyring = MentionKeyring("secret")
    key = keyring.key("solution-a", NO)
    assert len(key) == 64
    assert set(key) <= set("0123456789abcdef")
    assert keyring.key("solution-a", NO) == key  # stable
    assert keyring.key("solution-b", NO) != key  # another tenant, another key
    assert MentionKeyring("other secret").key("solution-a", NO) != key  # no secret, no key
    assert "91234567" not in key


def test_a_keyring_refuses_an_empty_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        MentionKeyring("")


def test_an_external_id_is_looked_up_as_its_pseudonym_only_where_an_erasure_could_give_it_one() -> None:
    keyring = MentionKeyring("secret")
    written, uuid = "+4791234567_20260309T0800", "0b7e3c1a-5f2d-4e8b-9a6c-1d2e3f4a5b6c"
    forms = keyring.external_id_forms("solution-a", [written, uuid])
    # The sweep pseudonymises only what the index reads; a platform's UUID is never read.
    assert forms == {written: written, keyring.erased_external_id("solution-a", written): written, uuid: uuid}


# ---------------------------------------------------------------------------------------------
# The corpus: recall and precision at the request level
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_corpus_recall_and_precision(seed: int) -> None:
    # Every person of the corpus is a request; each occurrence counts at its exact span.
    score = evaluate(generate_corpus(120, 800, seed=seed))
    assert score.true_positives > 1_000
    assert score.recall >= 0.999
    assert score.precision == 1.0


def test_the_corpus_is_deterministic() -> None:
    first, second = generate_corpus(10, 20, seed=3), generate_corpus(10, 20, seed=3)
    assert [d.body for d in first.documents] == [d.body for d in second.documents]


# ---------------------------------------------------------------------------------------------
# HTML: what a mail client shows is read, and the markup survives the replacement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Outlook's conditional comment holds a whole paragraph.
        ("<!--[if mso]><p>Ring 912 34 567</p><![endif]-->", f"<!--[if mso]><p>Ring {X}</p><![endif]-->"),
        # An unquoted attribute value.
        ("<a href=mailto:kari@x.no>Kari</a>", f"<a href=mailto:{X}>Kari</a>"),
        # A tag inside the number stays, so the bold is closed.
        ("<b>912</b> 34 567", f"<b>{X}</b>"),
        # Two table cells that together spell the number stay two cells.
        ("<td>912</td><td>34567</td>", f"<td>{X}</td><td></td>"),
    ],
)
def test_html_is_read_as_shown_and_its_tags_survive_the_replacement(text: str, expected: str) -> None:
    new, count = replace_identifiers(text, (NO, "kari@x.no"), "NO", X)
    assert (new, count) == (expected, 1)


def test_a_name_written_with_combining_marks_or_unicode_hyphens_is_replaced() -> None:
    decomposed = "A\u030ase \u00d8deg\u00e5rd".replace("\u00e5", "a\u030a")  # Åse Ødegård, decomposed
    text = f"Hei, dette er {decomposed} og Anne\u2010Lise Berg her"
    new, count = replace_identifiers(text, (), "NO", X, (*name_forms("Åse Ødegård"), *name_forms("Anne-Lise Berg")))
    assert (new, count) == (f"Hei, dette er {X} og {X} her", 2)
    # The customer name itself stored decomposed, the text composed.
    new, count = replace_identifiers("Hei Åse Ødegård", (), "NO", X, name_forms(decomposed))
    assert (new, count) == (f"Hei {X}", 1)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("kr 912,34, og kr 567", id="amounts-with-commas"),  # a comma joins no number
        pytest.param("12|34|56|78", id="pipes-no-valid-number"),  # 12345678: no Norwegian number
        pytest.param("versjon 9.12. 34. 567", id="version"),  # a version is no number
        pytest.param("kl. 09. 15", id="time"),  # too few digits
    ],
)
def test_loose_separators_read_no_number_where_there_is_none(text: str) -> None:
    assert identifiers_of(text, "NO") == (set(), set())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ring 912_34_567 nå", "ring [X] nå", id="underscore"),
        pytest.param("tlf 912 | 34 | 567.", "tlf [X].", id="spaced-pipe"),
        pytest.param("voicemail_+47_912_34_567.mp3", "voicemail_[X].mp3", id="file-name-plus"),
        pytest.param("nr. 91. 23. 45. 67 takk", "nr. [X] takk", id="dictated-dot-space"),
    ],
)
def test_loose_separators_are_replaced_for_the_requested_person(text: str, expected: str) -> None:
    assert replace_identifiers(text, ("+4791234567",), "NO", "[X]") == (expected, 1)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail/Ring 912 34 567 fra kari.nordmann@example.no.eml:3", "mail/Ring 91****67 fra k***@***.eml:3"),
        ("CallRecordings/voicemail_from_+4791234567_2026.wav", "CallRecordings/voicemail_from_+47******67_2026.wav"),
        # The address over the number that is its local part.
        ("4791234567@sms.example.no.eml", "4***@***.eml"),
        ("export.ndjson:2", "export.ndjson:2"),
        ("2026/03/empty.eml", "2026/03/empty.eml"),
    ],
)
def test_mask_written_masks_every_identifier_and_nothing_else(text: str, masked: str) -> None:
    assert mask_written(text, "NO") == masked
