"""Context decides (CONTRACT §9): what stands around digits says whether they are a phone number;
identifiers glued into file names, addresses and labels; the person's own number in any grouping."""

from __future__ import annotations

import pytest

from archivist.identifiers_text import find_emails, find_phones, replace_identifiers

X = "Anonymized"
KARI = "+4791234567"


# ---------------------------------------------------------------------------------------------
# Never a number: amounts, IPv4 addresses, versions, dates and times
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Du skylder 91234567 kroner.",
        "Saldo: 912 34 567 kr",
        "NOK 91234567 er trukket",
        "kr. 91 234 567",
        "Refusjon € 91234567",
        "Refund 91234567 €",
        "91234567 EUR paid",
        "Pris 91234567,- inkl. mva",
        "IP 91.23.45.67 blocked",
        "ip-adresse: 91.23.45.67",
        "server 9.12.34.56 svarte ikke",
        "Oppdater til 9.12.34.567",
        "app v9.1234567",
        "versjon 91234567",
        "firmware 9.123.45.67",
        "dato 09.12.3456",
    ],
)
def test_the_persons_digits_in_an_amount_an_address_or_a_version_are_never_replaced(text: str) -> None:
    assert replace_identifiers(text, (KARI,), "NO", X) == (text, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Beside an amount, the number is still a number.
        ("Ring 91234567, kr 500 i gebyr", "Ring Anonymized, kr 500 i gebyr"),
        ("Ring 912 34 567. Kr 200 er betalt", "Ring Anonymized. Kr 200 er betalt"),
        ("ring 91234567 kl 14", "ring Anonymized kl 14"),
        # Dotted in pairs, without "IP" before it, is how some write a number.
        ("tlf 91.23.45.67", "tlf Anonymized"),
        ("fra IP 10.0.0.1, tlf 91234567", "fra IP 10.0.0.1, tlf Anonymized"),
    ],
)
def test_a_number_beside_an_amount_or_an_address_is_still_replaced(text: str, expected: str) -> None:
    assert replace_identifiers(text, (KARI,), "NO", X) == (expected, 1)


def test_a_plus_in_an_addresss_local_part_is_part_of_the_address() -> None:
    text = "Skriv til linn.andreassen7+2024@example.no, hilsen Linn"
    assert find_emails(text) == [(10, 42, "linn.andreassen7+2024@example.no")]
    assert find_phones(text, "NO") == []
    # The customer's first name is replaced in the text, never inside the address.
    new, count = replace_identifiers(text, ("nobody@example.no",), "NO", X, names=("Linn Andreassen", "Linn"))
    assert (new, count) == ("Skriv til linn.andreassen7+2024@example.no, hilsen Anonymized", 1)
    assert replace_identifiers(text, ("linn.andreassen7+2024@example.no",), "NO", X)[0] == (
        "Skriv til Anonymized, hilsen Linn"
    )


# ---------------------------------------------------------------------------------------------
# Glued into file names, addresses and labels
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("voicemail_from_+4791234567_20240312T0915.mp3", "voicemail_from_Anonymized_20240312T0915.mp3"),
        ("rec_+4791234567.wav", "rec_Anonymized.wav"),
        # An SMS gateway's address: its local part is the number.
        ("Sendt til 4791234567@sms.example.no", "Sendt til Anonymized@sms.example.no"),
        ("91234567@sms.example.no", "Anonymized@sms.example.no"),
        ("+4791234567@mms.example.no", "Anonymized@mms.example.no"),
        # Labels glued to the number.
        ("Tlf:91234567", "Tlf:Anonymized"),
        ("mob:91234567", "mob:Anonymized"),
        ("Tel.nr91234567", "Tel.nrAnonymized"),
        ("Tel.nr.:91234567", "Tel.nr.:Anonymized"),
        ("telefonnummer91234567", "telefonnummerAnonymized"),
        ("Mobiltlf91234567", "MobiltlfAnonymized"),
        ("kontaktnr91234567", "kontaktnrAnonymized"),
        ("Tlf/mob:91234567", "Tlf/mob:Anonymized"),
        ("Phone#91234567", "Phone#Anonymized"),
        ("Handy:+4791234567", "Handy:Anonymized"),
        # The trunk 0 in brackets after the country code.
        ("+47(0)91234567", "Anonymized"),
        ("+47 (0)912 34 567", "Anonymized"),
    ],
)
def test_a_number_glued_into_a_name_an_address_or_to_a_label_is_replaced(text: str, expected: str) -> None:
    assert replace_identifiers(text, (KARI,), "NO", X) == (expected, 1)


@pytest.mark.parametrize(
    "text",
    [
        "kunde_91234567",  # '_' glues an id
        "ref_91234567_x",
        "kari.91234567@x.no",  # the number inside a longer local part
        "x@91234567.no",  # in a domain
        "ordre91234567",  # glued to a word that is no label
        "voicemail_from_+4591234567_1.mp3",  # another country's number
    ],
)
def test_digits_glued_into_an_id_are_never_replaced(text: str) -> None:
    assert replace_identifiers(text, (KARI,), "NO", X) == (text, 0)


@pytest.mark.parametrize(
    ("text", "address", "expected"),
    [
        # Broken across lines, in the local part or the domain, also in a quoted reply.
        ("Skriv til kari.nord\nmann@example.no i dag", "kari.nordmann@example.no", "Skriv til Anonymized i dag"),
        ("kari.nordmann@exam\n> ple.no", "kari.nordmann@example.no", "Anonymized"),
        ("mail: kari@example.\r\nno takk", "kari@example.no", "mail: Anonymized takk"),
        # Glued to the next word.
        ("kari@example.noTakk for sist", "kari@example.no", "AnonymizedTakk for sist"),
        ("kari@example.nohilsen Kari", "kari@example.no", "Anonymizedhilsen Kari"),
        # Spelt out.
        ("skriv til kari at example.no", "kari@example.no", "skriv til Anonymized"),
        ("kari AT example dot no", "kari@example.no", "Anonymized"),
        ("kari [at] example [dot] no", "kari@example.no", "Anonymized"),
    ],
)
def test_an_address_split_glued_or_spelt_out_is_replaced(text: str, address: str, expected: str) -> None:
    assert replace_identifiers(text, (address,), "NO", X) == (expected, 1)
    # Indexed under its own key, so a request finds the interaction by a lookup.
    assert address in {found for _, _, found in find_emails(text)}


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Hei\nkari@example.no", "heikari@example.no"),  # a word on the line before an address
        ("look at example.com", "kari@example.com"),
        ("kari@example.no takk", "kari@example.notakk"),
        ("kari@example.no", "kari@example.n"),
        ("ola.kari@example.no", "kari@example.no"),  # another address that ends like it
    ],
)
def test_an_address_is_not_replaced_for_one_it_only_resembles(text: str, address: str) -> None:
    assert replace_identifiers(text, (address,), "NO", X) == (text, 0)


# ---------------------------------------------------------------------------------------------
# The person, not only identifiers: a foreign number in its own country's national form
# ---------------------------------------------------------------------------------------------

DK = "+4520123456"
PL = "+48512345678"
US = "+12012345678"
SE = "+46701234567"


@pytest.mark.parametrize(
    ("text", "number", "expected"),
    [
        ("Ring meg på 20 12 34 56, takk", DK, "Ring meg på Anonymized, takk"),
        ("tlf 2012 3456", DK, "tlf Anonymized"),
        ("mobil: 20-12-34-56", DK, "mobil: Anonymized"),
        ("Numer: 512 345 678", PL, "Numer: Anonymized"),
        ("tel. 512-345-678", PL, "tel. Anonymized"),
        ("call 201-234-5678 after 5", US, "call Anonymized after 5"),
        ("cell 201.234.5678", US, "cell Anonymized"),
        ("(201) 234-5678", US, "Anonymized"),
        ("1-201-234-5678", US, "Anonymized"),
        ("ring 070-123 45 67", SE, "ring Anonymized"),
        ("20 12 34 56 / 98 76 54 32", DK, "Anonymized / 98 76 54 32"),
    ],
)
def test_a_requested_foreign_number_is_found_in_its_countrys_national_form(
    text: str, number: str, expected: str
) -> None:
    assert replace_identifiers(text, (number,), "NO", X) == (expected, 1)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("ring 91234567", "+4591234567"),  # a valid Norwegian number stays Norwegian
        ("20 12 34 56 78", DK),  # inside a longer grouping
        ("ordre 120123456", DK),  # inside a longer run
        ("Beløp 512 345 678 kr", PL),  # an amount
        ("versjon 20.12.34.56", DK),  # a version
        ("IP 201.234.56.78", US),  # an IPv4 address
        ("ref 20-123456", DK),  # a reference, not a phone grouping
        ("+45 20 12 34 57", DK),  # another number of that country
    ],
)
def test_a_requested_foreign_number_is_never_read_out_of_something_else(text: str, number: str) -> None:
    assert replace_identifiers(text, (number,), "NO", X) == (text, 0)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Ring meg på 20 12 34 56", DK),
        ("Numer: 512 345 678", PL),
        ("call 201-234-5678", US),
        ("cell 201.234.5678", US),
    ],
)
def test_a_grouped_foreign_national_form_no_home_number_has_is_indexed_under_its_key(text: str, number: str) -> None:
    # The mention index is keyed by E.164: the key is there, so a request finds it by a lookup.
    assert number in {e164 for _, _, e164 in find_phones(text, "NO")}


def test_a_reference_is_not_indexed_as_a_foreign_number() -> None:
    assert find_phones("Ordre 31-97735643 er levert", "NO") == []
    assert find_phones("Ordre 20123456 er levert", "NO") == []


def test_in_the_persons_own_interaction_their_foreign_digits_win_over_a_home_reading() -> None:
    # "91 23 45 67" is a valid Norwegian number; in the Danish customer's own chat it is theirs.
    text = "Ring mig på 91 23 45 67"
    dane = "+4591234567"
    assert replace_identifiers(text, (dane,), "NO", X) == (text, 0)
    assert replace_identifiers(text, (dane,), "NO", X, trusted=(dane,)) == ("Ring mig på Anonymized", 1)
    # Trust reads only the trusted number's digits, never another reading of them.
    assert replace_identifiers("ordre 91 23 45 67 89", (dane,), "NO", X, trusted=(dane,))[1] == 0
