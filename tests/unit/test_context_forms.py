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
