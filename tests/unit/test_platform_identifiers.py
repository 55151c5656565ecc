"""Identifiers as platforms write them (CONTRACT §16, amends §5): one reader, a table of forms.

The forms are the ones the platforms document: Amazon Connect writes ``CustomerEndpoint.Address``
in E.164 (https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html), Genesys
Cloud writes ``ani``/``dnis`` as ``tel:+47…`` or ``sip:…@…`` URIs
(https://developer.genesys.cloud/analyticsdatamanagement/analytics/detail/), Twilio and Meta
write WhatsApp senders as ``whatsapp:+47…`` (https://www.twilio.com/docs/whatsapp/api).
"""

from __future__ import annotations

import pytest

from archivist.identifiers import CustomerRead, normalize_caller, platform_email, platform_phone, read_customer

NO = "NO"


@pytest.mark.parametrize(
    ("raw", "bare", "e164"),
    [
        ("tel:+4791234567", "+4791234567", "+4791234567"),  # RFC 3966 global number, as Genesys writes ani
        ("TEL:+4791234567", "+4791234567", "+4791234567"),  # schemes are case-insensitive
        ("tel:+47-912-34-567;phone-context=+47", "+47-912-34-567", "+4791234567"),  # visual separators, a parameter
        ("sip:+4791234567@pbx.example.com", "+4791234567", "+4791234567"),  # SIP URI: the user part
        ("sip:+4791234567@pbx.example.com;user=phone", "+4791234567", "+4791234567"),  # with URI parameters
        ("sips:4791234567@sbc.example.com", "4791234567", "+4791234567"),  # no +: country code read as §5 does
        ('"Kari" <sip:+4791234567@pbx.example.com>', "+4791234567", "+4791234567"),  # SIP name-addr
        ("whatsapp:+4791234567", "+4791234567", "+4791234567"),  # Twilio/Meta WhatsApp sender
        ("whatsapp:4791234567", "4791234567", "+4791234567"),  # WhatsApp without +
        ("tel:91234567", "91234567", "+4791234567"),  # a national number in a tel: URI
        ("tel:004670123456", "004670123456", "+4670123456"),  # a foreign number with 00
        ("+4791234567", "+4791234567", "+4791234567"),  # already plain: unchanged
        ("sip:anonymous@pbx.example.com", "sip:anonymous@pbx.example.com", None),  # distractor: withheld caller
        ("anonymous", "anonymous", None),  # distractor: §5 keeps it as it came
        ("unknown", "unknown", None),  # distractor
        ("", "", None),  # distractor: empty
        ("tel:+47abc", "tel:+47abc", None),  # distractor: letters in a tel: URI are no number
        ("tel:", "tel:", None),  # distractor: a scheme alone
        ("sip:@pbx.example.com", "sip:@pbx.example.com", None),  # distractor: no user part
        ("mailto:+4791234567", "mailto:+4791234567", None),  # distractor: not a phone scheme
    ],
)
def test_platform_phone_forms_read_into_e164(raw: str, bare: str, e164: str | None) -> None:
    assert platform_phone(raw) == bare
    assert normalize_caller(raw, NO) == e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Kari Nordmann <kari@example.com>", ("kari@example.com", "Kari Nordmann")),  # name-addr
        ('"Nordmann, Kari" <kari@example.com>', ("kari@example.com", "Nordmann, Kari")),  # quoted, with a comma
        ('"Kari \\"K\\" Nordmann" <kari@example.com>', ("kari@example.com", 'Kari "K" Nordmann')),  # escapes
        ("<kari@example.com>", ("kari@example.com", None)),  # angle brackets only
        ("mailto:kari@example.com", ("kari@example.com", None)),  # RFC 6068
        ("MAILTO:kari@example.com?subject=Hei", ("kari@example.com", None)),  # with a query
        ("mailto:kari%2Bcrm@example.com", ("kari+crm@example.com", None)),  # percent-encoded
        ("Kari <mailto:kari@example.com>", ("kari@example.com", "Kari")),  # both at once
        ("=?utf-8?q?K=C3=A5re_N=C3=B8kkel?= <kare@example.com>", ("kare@example.com", "Kåre Nøkkel")),  # RFC 2047
        ("  Kari@Example.com  ", ("Kari@Example.com", None)),  # bare, trimmed, case kept as written
        ("no-at-sign.example.org", None),  # distractor: no address at all
        ("Kari <kari@example.com", None),  # distractor: an unclosed bracket
        ("kari@example.com, ola@example.com", None),  # distractor: two addresses are not one customer
        ("mailto:", None),  # distractor: a scheme alone
        ("anonymous", None),  # distractor
        ("Kari <>", None),  # distractor: empty brackets
    ],
)
def test_platform_email_forms(raw: str, expected: tuple[str, str | None] | None) -> None:
    assert platform_email(raw) == expected


@pytest.mark.parametrize(
    ("given", "read"),
    [
        # the display name fills an empty name
        ((None, "Kari Nordmann <kari@example.com>", None), CustomerRead(None, "kari@example.com", "Kari Nordmann")),
        # ...but never replaces one that was given
        ((None, "K N <kari@example.com>", "Kari"), CustomerRead(None, "kari@example.com", "Kari")),
        # a blank name counts as empty
        ((None, '"Nordmann, Kari" <k@example.com>', " "), CustomerRead(None, "k@example.com", "Nordmann, Kari")),
        # the phone loses its scheme; the name stays
        (("tel:+4791234567", None, "Kari"), CustomerRead("+4791234567", None, "Kari")),
        # an unreadable address is dropped and said so
        ((None, "no-at-sign.example.org", None), CustomerRead(None, None, None, email_unreadable=True)),
        # an empty address is no address, not an unreadable one
        ((None, "  ", None), CustomerRead(None, None, None)),
        # an unreadable phone is kept as it came (§5)
        (("anonymous", None, None), CustomerRead("anonymous", None, None)),
    ],
)
def test_read_customer(given: tuple[str | None, str | None, str | None], read: CustomerRead) -> None:
    assert read_customer(*given) == read


@pytest.mark.parametrize(
    ("phone", "email", "read"),
    [
        # an HTML entity for the plus, as a web form's integration stores it
        ("&#43;4791234567", None, CustomerRead("+4791234567", None, None)),
        # a JSON escape a serialiser wrote and nobody decoded
        ("\\u002B4791234567", None, CustomerRead("+4791234567", None, None)),
        # percent-encoded, as a URL query carried it
        ("%2B4791234567", None, CustomerRead("+4791234567", None, None)),
        # an RFC 2047 encoded word, as a mail gateway wrote the caller id
        ("=?UTF-8?Q?+47_912_34_567?=", None, CustomerRead("+47 912 34 567", None, None)),
        # a line separator inside the number reads as a space
        ("+47\u2028912 34 567", None, CustomerRead("+47 912 34 567", None, None)),
        # a platform form is read as such first: its '@' is no address
        ("sip:+4791234567@pbx.example.com", None, CustomerRead("+4791234567", None, None)),
        # the address, with its '@' written as an entity, percent-encoded, escaped or obfuscated
        (None, "kari&#64;example.no", CustomerRead(None, "kari@example.no", None)),
        (None, "kari%40example.no", CustomerRead(None, "kari@example.no", None)),
        (None, "=?UTF-8?Q?kari=40example.no?=", CustomerRead(None, "kari@example.no", None)),
        (None, "kari (at) example.no", CustomerRead(None, "kari@example.no", None)),
        # ...also inside a name-addr, whose display name fills the name
        (None, "Kari <kari&#64;example.no>", CustomerRead(None, "kari@example.no", "Kari")),
        # what no reading makes an address is still unreadable
        (None, "kari at example", CustomerRead(None, None, None, email_unreadable=True)),
    ],
)
def test_customer_fields_get_the_reading_texts_get(phone: str | None, email: str | None, read: CustomerRead) -> None:
    assert read_customer(phone, email, None) == read
    if read.phone is not None:
        assert normalize_caller(read.phone, "NO") == "+4791234567"
