"""What an attachment's name writes, for the mention index (CONTRACT §15)."""

from __future__ import annotations

import pytest

from archivist.archive.mentions import attachment_name_text, identifiers_in


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("kari@example.no.png", "kari@example.no"),
        ("pass 912 34 567.pdf", "pass 912 34 567"),
        ("faktura.tar.gz", "faktura.tar"),
        ("91234567", "91234567"),
        (".png", ".png"),
        ("notat.endelig versjon", "notat.endelig versjon"),
    ],
)
def test_the_extension_is_left_out(name: str, text: str) -> None:
    assert attachment_name_text(name) == text


def test_a_name_ending_in_an_address_names_the_address_not_a_png_domain() -> None:
    found = identifiers_in([attachment_name_text("kari.nordmann@example.no.png")], "NO")
    assert {value for _, value in found} == {"kari.nordmann@example.no"}
