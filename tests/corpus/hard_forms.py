"""Hard written forms of phone numbers and addresses, with exact ground truth, for the scanner's tests.

The forms that survived erasure in production, one form class at a time; and texts full of
digits that are nobody's number.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers

from archivist.identifiers import parse_email
from tests.corpus.corpus import _FIRST, _LAST, _NATIONAL, Person, Score, _distractor, _valid_number, phone_forms

__all__ = [
    "DISTRACTOR_CLASSES",
    "ENCODED_CLASSES",
    "ENCODERS",
    "FORM_CLASSES",
    "NO_PHONE_FORMS",
    "Case",
    "PhoneForm",
    "distractor_texts",
    "hard_cases",
    "score_cases",
]


@dataclass(frozen=True)
class Case:
    """One text written with a hard form, the true spans of every identifier in it, and strangers."""

    form_class: str
    text: str
    country: str
    # (identifier, exact spans in text): identifier is an E.164 number or a normalised address.
    truths: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]
    # Identifiers that must replace nothing here: strangers whose digits stand in a distractor,
    # and the wrong readings of the hard form (the tail of a German number read as Norwegian).
    negatives: tuple[str, ...]


# A piece of a written form and whether it belongs to the identifier's span. A form may have
# two spans (the href and the text of a link); the pieces between them are not the identifier.
Piece = tuple[str, bool]


@dataclass(frozen=True)
class PhoneForm:
    """How a Norwegian mobile number (its 8 national digits) is written in one hard variant."""

    name: str
    render: Callable[[str], tuple[Piece, ...]]
    # "sentence": inside running text; "bare": carries its own label; "quote": lines of a quoted reply.
    place: str = "sentence"


@dataclass(frozen=True)
class _Form:
    """One written occurrence: pieces, whose identifier they are, and what must not be read out of them."""

    pieces: tuple[Piece, ...]
    identifier: str
    kind: str  # "phone" or "email": which sentences it fits into
    place: str = "sentence"  # as PhoneForm.place, plus "end": the last thing in the text
    negatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Cast:
    """Who a case is about, and who else may turn up in it."""

    person: Person
    first: str
    last: str
    other: Person
    stranger: str  # a valid NO number that is written nowhere, only its digits inside a distractor


@dataclass
class _Builder:
    """A text built piece by piece, recording the span of each identifier as it is written (like Field.add)."""

    text: str = ""
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, piece: str, identifier: str | None = None) -> None:
        if identifier is not None:
            self.spans.setdefault(identifier, []).append((len(self.text), len(self.text) + len(piece)))
        self.text += piece

    def pieces(self, pieces: Iterable[Piece], identifier: str) -> None:
        for piece, marked in pieces:
            self.add(piece, identifier if marked else None)


def _span(piece: str) -> tuple[Piece, ...]:
    return ((piece, True),)


def _around(before: str, piece: str, after: str = "") -> tuple[Piece, ...]:
    return tuple(p for p in ((before, False), (piece, True), (after, False)) if p[0])


def _g323(d: str, sep: str = " ") -> str:
    return f"{d[:3]}{sep}{d[3:5]}{sep}{d[5:]}"


def _g2222(d: str, sep: str = " ") -> str:
    return sep.join((d[:2], d[2:4], d[4:6], d[6:]))


def _g44(d: str, sep: str = " ") -> str:
    return f"{d[:4]}{sep}{d[4:]}"


def _nsn(e164: str) -> str:
    return phonenumbers.national_significant_number(phonenumbers.parse(e164, None))


def _translate(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in another script whose zero is ``zero``."""
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in text)


_FULLWIDTH_ZERO, _ARABIC_ZERO, _PERSIAN_ZERO = "\uff10", "\u0660", "\u06f0"


def _fullwidth(text: str) -> str:
    return _translate(text, _FULLWIDTH_ZERO).replace("+", "\uff0b").replace("-", "\uff0d")


# ---------------------------------------------------------------------------------------------
# Norwegian mobile numbers, per form class
# ---------------------------------------------------------------------------------------------

_DASHES = {
    "hyphen": "\u2010",
    "non-breaking-hyphen": "\u2011",
    "figure-dash": "\u2012",
    "en-dash": "\u2013",
    "em-dash": "\u2014",
    "horizontal-bar": "\u2015",
    "minus": "\u2212",
}
_SPACES = {
    "nbsp": "\u00a0",
    "narrow-nbsp": "\u202f",
    "thin": "\u2009",
    "figure": "\u2007",
    "ideographic": "\u3000",
}
_INVISIBLES = {"zwsp": "\u200b", "word-joiner": "\u2060", "soft-hyphen": "\u00ad", "bom": "\ufeff"}


Render = Callable[[str], tuple[Piece, ...]]


def _plus47_323(d: str, sep: str) -> str:
    return f"+47{sep}{_g323(d, sep)}"


def _g233(d: str, sep: str) -> str:
    return f"{d[:2]}{sep}{d[2:5]}{sep}{d[5:]}"


def _sep(grouping: Callable[[str, str], str] | None, sep: str) -> Render:
    """A form that is ``grouping`` with ``sep`` between the groups; None: the digits with ``sep`` around."""
    if grouping is None:
        return lambda d: _around(sep, d, sep)
    return lambda d: _span(grouping(d, sep))


def _labelled(label: str, grouping: Callable[[str], str]) -> Render:
    return lambda d: _around(label, grouping(d))


def _dash_forms() -> list[PhoneForm]:
    forms = []
    for label, c in _DASHES.items():
        forms += [
            # 912‐34‐567
            PhoneForm(f"323-{label}", _sep(_g323, c)),
            # +47–912–34–567
            PhoneForm(f"+47-323-{label}", _sep(_plus47_323, c)),
            # 91–23–45–67
            PhoneForm(f"2222-{label}", _sep(_g2222, c)),
            # 9123–4567
            PhoneForm(f"44-{label}", _sep(_g44, c)),
        ]
    return [
        *forms,
        # An ASCII hyphen and a Unicode one in the same number (edited in two programs).
        PhoneForm("mixed-ascii", lambda d: _span(f"{d[:3]}-{d[3:5]}\u2010{d[5:]}")),
        # The country code dashed off an undivided number.
        PhoneForm("+47-en-dash-undivided", lambda d: _span(f"+47\u2013{d}")),
        # 00 form with en dashes.
        PhoneForm("0047-en-dash", lambda d: _span(f"0047\u2013{_g323(d, chr(0x2013))}")),
        # A Unicode dash after a grouped +47.
        PhoneForm("+47-space-minus", lambda d: _span(f"+47 {_g323(d, chr(0x2212))}")),
    ]


def _space_forms() -> list[PhoneForm]:
    forms = []
    for label, s in _SPACES.items():
        forms += [
            # 912 34 567 with the space from copy/paste or a word processor
            PhoneForm(f"323-{label}", _sep(_g323, s)),
            # 91 23 45 67
            PhoneForm(f"2222-{label}", _sep(_g2222, s)),
            # 9123 4567
            PhoneForm(f"44-{label}", _sep(_g44, s)),
            # +47 912 34 567
            PhoneForm(f"+47-323-{label}", _sep(_plus47_323, s)),
        ]
    for label, z in _INVISIBLES.items():
        forms += [
            # Between the groups, instead of a space.
            PhoneForm(f"between-{label}", _sep(_g323, z)),
            # Inside a group: the digits look undivided.
            PhoneForm(f"inside-{label}", _sep(_g233, z)),
            # Beside an ordinary space.
            PhoneForm(f"space-{label}", _sep(_g323, " " + z)),
            # Around the number only: the span is the digits, the invisible characters stay.
            PhoneForm(f"around-{label}", _sep(None, z)),
        ]
    return [
        *forms,
        # Two non-breaking spaces after the country code (justified text).
        PhoneForm("+47-double-nbsp", lambda d: _span(f"+47\u00a0\u00a0{d}")),
        # A non-breaking and an ordinary space in one number.
        PhoneForm("mixed-nbsp", lambda d: _span(f"{d[:3]}\u00a0{d[3:5]} {d[5:]}")),
    ]


def _digit_forms() -> list[PhoneForm]:
    return [
        # ９１２３４５６７
        PhoneForm("fullwidth", lambda d: _span(_fullwidth(d))),
        # ９１２ ３４ ５６７ with ASCII spaces
        PhoneForm("fullwidth-323", lambda d: _span(_fullwidth(_g323(d)))),
        # ＋４７ ９１２ ３４ ５６７
        PhoneForm("fullwidth-plus", lambda d: _span(_fullwidth(f"+47 {_g323(d)}"))),
        # ＋４７９１２３４５６７
        PhoneForm("fullwidth-e164", lambda d: _span(_fullwidth(f"+47{d}"))),
        # ９１２－３４－５６７ (fullwidth hyphen-minus)
        PhoneForm("fullwidth-hyphen", lambda d: _span(_fullwidth(_g323(d, "-")))),
        # ９１２　３４　５６７ (ideographic spaces, as an IME writes it)
        PhoneForm("fullwidth-ideographic", lambda d: _span(_fullwidth(_g323(d, "\u3000")))),
        # Half the number fullwidth, half ASCII (the IME switched mode).
        PhoneForm("mixed-width", lambda d: _span(_fullwidth(d[:3]) + d[3:])),
        # ٩١٢٣٤٥٦٧
        PhoneForm("arabic-indic", lambda d: _span(_translate(d, _ARABIC_ZERO))),
        # ٩١٢ ٣٤ ٥٦٧
        PhoneForm("arabic-indic-323", lambda d: _span(_translate(_g323(d), _ARABIC_ZERO))),
        # +٤٧ ٩١٢٣٤٥٦٧
        PhoneForm("arabic-indic-plus", lambda d: _span(_translate(f"+47 {d}", _ARABIC_ZERO))),
        # ۹۱۲۳۴۵۶۷
        PhoneForm("eastern-arabic-indic", lambda d: _span(_translate(d, _PERSIAN_ZERO))),
        # ۹۱ ۲۳ ۴۵ ۶۷
        PhoneForm("eastern-arabic-indic-2222", lambda d: _span(_translate(_g2222(d), _PERSIAN_ZERO))),
    ]


# (label, grouping): the label is glued to the number and stays when it is replaced.
_LABELS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("tlf.", lambda d: d),
    ("Tlf:", lambda d: d),
    ("Mob.", _g323),
    ("mob:", _g323),
    ("på", lambda d: d),
    ("tel", lambda d: d),
    ("nr.", lambda d: d),
    ("telefon:", lambda d: "+47" + d),
    ("Tlf.nr.", lambda d: d),
    ("mobil:", _g2222),
    ("Mobil", lambda d: d),
    ("Tel:", lambda d: "+47 " + _g323(d)),
    ("tlf", _g323),
    ("TLF.", lambda d: d),
    ("mob.nr:", lambda d: d),
    ("Phone:", lambda d: "+47" + d),
    ("ph.", lambda d: d),
    ("tel.", lambda d: "+47" + d),
    ("telefonnr.", lambda d: d),
    ("mobilnr:", _g323),
    ("Tlf.:", _g44),
    ("M:", lambda d: "+47 " + d),
)


def _label_forms() -> list[PhoneForm]:
    return [PhoneForm(f"{label}{i}", _labelled(label, grouping), "bare") for i, (label, grouping) in enumerate(_LABELS)]


def _wrap_forms() -> list[PhoneForm]:
    return [
        # 912 34⏎567: the mail client wrapped at the second space
        PhoneForm("323-lf", lambda d: _span(f"{d[:3]} {d[3:5]}\n{d[5:]}")),
        # 912 34⏎567 with a CRLF
        PhoneForm("323-crlf", lambda d: _span(f"{d[:3]} {d[3:5]}\r\n{d[5:]}")),
        # 912⏎34 567
        PhoneForm("323-lf-first", lambda d: _span(f"{d[:3]}\n{d[3:5]} {d[5:]}")),
        # 91 23⏎45 67
        PhoneForm("2222-lf", lambda d: _span(f"{d[:2]} {d[2:4]}\n{d[4:6]} {d[6:]}")),
        # +47 912⏎34 567
        PhoneForm("+47-lf", lambda d: _span(f"+47 {d[:3]}\n{d[3:5]} {d[5:]}")),
        # +47⏎912 34 567
        PhoneForm("+47-lf-code", lambda d: _span(f"+47\n{_g323(d)}")),
        # format=flowed keeps the space before the soft break: 912 34 ⏎567
        PhoneForm("323-flowed", lambda d: _span(f"{d[:3]} {d[3:5]} \n{d[5:]}")),
        # > Ring meg på 912 34⏎> 567
        PhoneForm(
            "quote", lambda d: _around("\n> Ring meg på ", f"{d[:3]} {d[3:5]}\n> {d[5:]}", " etter kl. 16."), "quote"
        ),
        # >> 912⏎>> 34 567
        PhoneForm("quote-nested", lambda d: _around("\n>> Nummeret er ", f"{d[:3]}\n>> {d[3:5]} {d[5:]}"), "quote"),
        # > 912 34⏎> 567 with CRLF line ends
        PhoneForm("quote-crlf", lambda d: _around("\r\n> Call me on ", f"{d[:3]} {d[3:5]}\r\n> {d[5:]}"), "quote"),
        # > > 912 34⏎> > 567 (clients that space nested markers)
        PhoneForm("quote-spaced", lambda d: _around("\n> > Mobil ", f"{d[:3]} {d[3:5]}\n> > {d[5:]}"), "quote"),
        # > +47 912 34⏎> 567
        PhoneForm("quote-+47", lambda d: _around("\n> Tlf. ", f"+47 {d[:3]} {d[3:5]}\n> {d[5:]}"), "quote"),
    ]


def _html_forms() -> list[PhoneForm]:
    return [
        # 912&nbsp;34&nbsp;567
        PhoneForm("nbsp-entity", lambda d: _span(_g323(d, "&nbsp;"))),
        # 912&#160;34&#160;567
        PhoneForm("decimal-entity", lambda d: _span(_g323(d, "&#160;"))),
        # 912&#xA0;34&#xA0;567
        PhoneForm("hex-entity", lambda d: _span(_g323(d, "&#xA0;"))),
        # +47&nbsp;91&nbsp;23&nbsp;45&nbsp;67
        PhoneForm("+47-nbsp-entity", lambda d: _span("+47&nbsp;" + _g2222(d, "&nbsp;"))),
        # <b>912</b> 34 567: the span runs from the first digit, so the tags inside it belong to it
        PhoneForm("inner-bold", lambda d: _around("<b>", f"{d[:3]}</b> {d[3:5]} {d[5:]}")),
        # <span>+47</span> 912 34 567
        PhoneForm("inner-span", lambda d: _around("<span>", f"+47</span> {_g323(d)}")),
        # <strong>+47</strong>&nbsp;91234567
        PhoneForm("inner-strong-nbsp", lambda d: _around("<strong>", f"+47</strong>&nbsp;{d}")),
        # <td>91234567</td>: the outer tags do not
        PhoneForm("cell", lambda d: _around("<td>", d, "</td>")),
        # <td>+47 912 34 567</td>
        PhoneForm("cell-+47", lambda d: _around("<td>", f"+47 {_g323(d)}", "</td>")),
        # <a href="tel:+4791234567">912 34 567</a>: two spans
        PhoneForm(
            "tel-link",
            lambda d: (('<a href="tel:', False), (f"+47{d}", True), ('">', False), (_g323(d), True), ("</a>", False)),
        ),
        # 912<wbr>34<wbr>567 (line-break hints)
        PhoneForm("wbr", lambda d: _span(_g323(d, "<wbr>"))),
        # <p>Tlf: 91234567</p>
        PhoneForm("paragraph", lambda d: _around("<p>Tlf: ", d, "</p>")),
    ]


def _percent_forms() -> list[PhoneForm]:
    return [
        # tel:%2B4791234567
        PhoneForm("tel", lambda d: _around("tel:", f"%2B47{d}")),
        # ?phone=%2B47%20912%2034%20567
        PhoneForm(
            "query-%20",
            lambda d: _around("https://x.no/contact?phone=", "%2B47%20" + _g323(d, "%20"), "&src=chat"),
        ),
        # Form encoding: spaces as '+': ?phone=%2B47+912+34+567
        PhoneForm("query-plus", lambda d: _around("https://x.no/ring?phone=", "%2B47+" + _g323(d, "+"), "&lang=no")),
        # href="tel%3A%2B4791234567" (the colon encoded too)
        PhoneForm("encoded-colon", lambda d: _around("callback=tel%3A", f"%2B47{d}", "&id=7")),
        # ?tlf=912%2034%20567
        PhoneForm("query-national", lambda d: _around("https://x.no/skjema?tlf=", _g323(d, "%20"))),
        # %2b in lower case
        PhoneForm("lower-hex", lambda d: _around("tel:", f"%2b47{d}")),
        # tel:%2B47-912-34-567
        PhoneForm("tel-dashed", lambda d: _around("tel:", "%2B47-" + _g323(d, "-"))),
    ]


def _uri_forms() -> list[PhoneForm]:
    return [
        # The E.164 number in a tel: link.
        PhoneForm("tel", lambda d: _around("tel:", f"+47{d}")),
        # A tel: link with dashes.
        PhoneForm("tel-dashed", lambda d: _around("tel:", "+47-" + _g323(d, "-"))),
        # A tel: link with the national number.
        PhoneForm("tel-national", lambda d: _around("tel:", d)),
        # sip:+4791234567@sip.example.no: the number is the identifier, not the address
        PhoneForm("sip", lambda d: _around("sip:", f"+47{d}", "@sip.example.no")),
        # A secure SIP URI with a parameter.
        PhoneForm("sips", lambda d: _around("sips:", f"+47{d}", "@pbx.example.no;transport=tls")),
        # callto:004791234567
        PhoneForm("callto", lambda d: _around("callto:", f"0047{d}")),
        # https://wa.me/4791234567
        PhoneForm("wa.me", lambda d: _around("https://wa.me/", f"47{d}")),
        # sms:+4791234567?body=Hei
        PhoneForm("sms", lambda d: _around("sms:", f"+47{d}", "?body=Hei")),
        # whatsapp://send?phone=4791234567
        PhoneForm("whatsapp", lambda d: _around("whatsapp://send?phone=", f"47{d}")),
        # TEL:+4791234567 (upper-case scheme)
        PhoneForm("tel-upper", lambda d: _around("TEL:", f"+47{d}")),
        # <tel:+4791234567> (an autolink)
        PhoneForm("tel-angle", lambda d: _around("<tel:", f"+47{d}", ">")),
    ]


def _slash_forms() -> list[PhoneForm]:
    return [
        # 912/34/567
        PhoneForm("323", lambda d: _span(_g323(d, "/"))),
        # 9123/4567
        PhoneForm("44", lambda d: _span(_g44(d, "/"))),
        # 912/34567
        PhoneForm("3-5", lambda d: _span(f"{d[:3]}/{d[3:]}")),
    ]


def _any_separator_forms() -> list[PhoneForm]:
    """Separators no chain of the scanner takes (issue 21: "their digits in any grouping and any
    separator"): file names and exported tables join groups with '_' or '|', people with '*', '·',
    '•', '~' or '. ' (a number dictated into a sentence)."""
    forms = []
    for name, sep in (
        ("underscore", "_"),
        ("pipe", "|"),
        ("star", "*"),
        ("middle-dot", "\u00b7"),
        ("bullet", "\u2022"),
        ("tilde", "~"),
        ("dot-space", ". "),
        ("spaced-pipe", " | "),
    ):
        # 912_34_567, 91_23_45_67, 9123_4567
        for grouping, group in (("323", _g323), ("2222", _g2222), ("44", _g44)):
            forms.append(PhoneForm(f"{name}-{grouping}", _sep(group, sep)))
    # voicemail_912_34_567.mp3: a recording's file name as a platform writes it
    forms.append(PhoneForm("file-name", lambda d: _around("voicemail_", _g323(d, "_"), ".mp3")))
    # +47_912_34_567
    forms.append(PhoneForm("+47-underscore", lambda d: _span(_plus47_323(d, "_"))))
    return forms


def _spacing_forms() -> list[PhoneForm]:
    return [
        # 9 1 2 3 4 5 6 7: digit by digit, as speech-to-text writes a dictated number
        PhoneForm("digit-by-digit", lambda d: _span(" ".join(d))),
        # 9-1-2-3-4-5-6-7
        PhoneForm("digit-by-digit-dash", lambda d: _span("-".join(d))),
        # 912  34  567 (justified text)
        PhoneForm("double-space", lambda d: _span(_g323(d, "  "))),
        # 912   34   567
        PhoneForm("triple-space", lambda d: _span(_g323(d, "   "))),
        # 912⇥34⇥567
        PhoneForm("tab", lambda d: _span(_g323(d, "\t"))),
        # 912 - 34 - 567
        PhoneForm("spaced-hyphen", lambda d: _span(_g323(d, " - "))),
        # +47  91234567
        PhoneForm("+47-double-space", lambda d: _span(f"+47  {d}")),
    ]


def _mixed_forms() -> list[PhoneForm]:
    return [
        # +47 912‐34‐567: a non-breaking space and Unicode hyphens
        PhoneForm("nbsp-dash", lambda d: _span(f"+47\u00a0{_g323(d, chr(0x2010))}")),
        # > Ring meg på 912&nbsp;34⏎> 567: an entity in a wrapped quoted reply
        PhoneForm("entity-quote", lambda d: _around("\n> Ring meg på ", f"{d[:3]}&nbsp;{d[3:5]}\n> {d[5:]}"), "quote"),
        # tel:＋４７９１２３４５６７
        PhoneForm("fullwidth-tel", lambda d: _around("tel:", _fullwidth(f"+47{d}"))),
        # <a href="tel:+47%20912%2034%20567">912&nbsp;34&nbsp;567</a>
        PhoneForm(
            "percent-link-entity",
            lambda d: (
                ('<a href="tel:', False),
                ("+47%20" + _g323(d, "%20"), True),
                ('">', False),
                (_g323(d, "&nbsp;"), True),
                ("</a>", False),
            ),
        ),
        # Tlf:912 34 567 with narrow no-break spaces
        PhoneForm("label-narrow-nbsp", lambda d: _around("Tlf:", _g323(d, "\u202f")), "bare"),
        # 912&#8209;34&#8209;567 (the entity of a non-breaking hyphen)
        PhoneForm("dash-entity", lambda d: _span(_g323(d, "&#8209;"))),
        # mob.９１２ ３４ ５６７
        PhoneForm("label-fullwidth", lambda d: _around("mob.", _fullwidth(_g323(d))), "bare"),
        # 912 34⏎567 wrapped, with a non-breaking space in the first line
        PhoneForm("nbsp-wrap", lambda d: _span(f"{d[:3]}\u00a0{d[3:5]}\n{d[5:]}")),
        # <td>912–34–567</td>
        PhoneForm("cell-dash", lambda d: _around("<td>", _g323(d, "\u2013"), "</td>")),
        # tel:+47​91234567 with a zero-width space inside the link
        PhoneForm("tel-zwsp", lambda d: _around("tel:", f"+47\u200b{d}")),
    ]


def _separator_forms() -> list[PhoneForm]:
    """Every line and paragraph separator a text may hold, where a number wraps (issue 21)."""
    separators = {
        "ls": "\u2028",  # LINE SEPARATOR: JavaScript editors and some CRMs
        "ps": "\u2029",  # PARAGRAPH SEPARATOR
        "vt": "\x0b",  # vertical tab: Word's manual line break, pasted
        "ff": "\x0c",
        "cr": "\r",  # a lone CR: classic Mac OS, some SMS gateways
        "nel": "\x85",  # NEXT LINE: EBCDIC conversions
    }
    forms = []
    for label, brk in separators.items():

        def g323(d: str, b: str = brk) -> tuple[Piece, ...]:
            return _span(f"{d[:3]} {d[3:5]}{b}{d[5:]}")

        def plus47(d: str, b: str = brk) -> tuple[Piece, ...]:
            return _span(f"+47{b}{_g323(d)}")

        def g2222(d: str, b: str = brk) -> tuple[Piece, ...]:
            return _span(f"{d[:2]} {d[2:4]}{b}{d[4:6]} {d[6:]}")

        forms += [PhoneForm(f"323-{label}", g323), PhoneForm(f"+47-{label}", plus47), PhoneForm(f"2222-{label}", g2222)]
    return forms


def _glued_forms() -> list[PhoneForm]:
    """Numbers glued into file names, gateway addresses and labels, and the "(0)" trunk."""
    return [
        # voicemail_from_+4791234567_20240312T0915.mp3 (a voicemail attachment's name, in a body)
        PhoneForm("voicemail-file", lambda d: _around("voicemail_from_", f"+47{d}", "_20240312T0915.mp3"), "bare"),
        # rec_+4791234567.wav
        PhoneForm("recording-file", lambda d: _around("rec_", f"+47{d}", ".wav"), "bare"),
        # 4791234567@sms.example.no: an email-to-SMS gateway's address
        PhoneForm("sms-gateway", lambda d: _around("", f"47{d}", "@sms.example.no"), "bare"),
        # 91234567@mms.example.no
        PhoneForm("mms-gateway", lambda d: _around("", d, "@mms.example.no"), "bare"),
        # +47(0)91234567: the trunk 0 in brackets after the country code
        PhoneForm("trunk-bracket", lambda d: _span(f"+47(0){d}")),
        # +47 (0) 912 34 567
        PhoneForm("trunk-bracket-spaced", lambda d: _span(f"+47 (0) {_g323(d)}")),
        # 0047(0)91234567
        PhoneForm("trunk-bracket-00", lambda d: _span(f"0047(0){d}")),
        # telefonnummer91234567, Mobiltlf:912 34 567, kontaktnr.91234567, Handy:+4791234567
        PhoneForm("label-telefonnummer", lambda d: _around("telefonnummer", d), "bare"),
        PhoneForm("label-mobiltlf", lambda d: _around("Mobiltlf:", _g323(d)), "bare"),
        PhoneForm("label-kontaktnr", lambda d: _around("kontaktnr.", d), "bare"),
        PhoneForm("label-handy", lambda d: _around("Handy:", f"+47{d}"), "bare"),
        PhoneForm("label-tel-nr", lambda d: _around("Tel.nr:", d), "bare"),
    ]


# Form class -> the variants in which a Norwegian mobile number is written in it.
NO_PHONE_FORMS: dict[str, tuple[PhoneForm, ...]] = {
    "unicode-dash": tuple(_dash_forms()),
    "unicode-space": tuple(_space_forms()),
    "unicode-digits": tuple(_digit_forms()),
    "glued-label": tuple(_label_forms()),
    "line-wrap": tuple(_wrap_forms()),
    "html": tuple(_html_forms()),
    "percent-encoding": tuple(_percent_forms()),
    "uri": tuple(_uri_forms()),
    "slash-groups": tuple(_slash_forms()),
    "odd-spacing": tuple(_spacing_forms()),
    "mixed": tuple(_mixed_forms()),
    "line-separator": tuple(_separator_forms()),
    "glued-name-address": tuple(_glued_forms()),
    "any-separator": tuple(_any_separator_forms()),
}


# ---------------------------------------------------------------------------------------------
# Foreign numbers and addresses
# ---------------------------------------------------------------------------------------------

Maker = Callable[[random.Random, _Cast], _Form]


def _phone_maker(form: PhoneForm) -> Maker:
    def make(rng: random.Random, cast: _Cast) -> _Form:
        return _Form(form.render(_nsn(cast.person.phone)), cast.person.phone, "phone", form.place)

    return make


def _no_reading(digits: str) -> str | None:
    """The Norwegian number ``digits`` would be if read alone: the stranger a wrong reading erases."""
    number = phonenumbers.parse(digits, "NO")
    return f"+47{digits}" if phonenumbers.is_valid_number(number) and len(digits) == 8 else None


def _no_tail_number(rng: random.Random, region: str, prefix: str) -> tuple[str, str]:
    """A valid number of ``region``: ``prefix`` then 8 digits that are also a valid NO number."""
    while True:
        tail = rng.choice("2345679") + "".join(rng.choice("0123456789") for _ in range(7))
        number = phonenumbers.parse(prefix + tail, region)
        if phonenumbers.is_valid_number(number) and _no_reading(tail) is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), tail


def _berlin(rng: random.Random) -> str:
    return _valid_number(rng, "DE", lambda r: "030" + "".join(r.choice("0123456789") for _ in range(r.choice((7, 8)))))


def _foreign(pieces: tuple[Piece, ...], e164: str, negatives: tuple[str | None, ...] = ()) -> _Form:
    return _Form(pieces, e164, "phone", "sentence", tuple(n for n in negatives if n is not None))


def _de_mobile(rng: random.Random, write: Callable[[str], tuple[Piece, ...]]) -> _Form:
    e164, tail = _no_tail_number(rng, "DE", "0151")
    # The tail alone is a valid NO number: reading it so erased a stranger in production.
    return _foreign(write(tail), e164, (_no_reading(tail),))


def _de_landline(rng: random.Random, write: Callable[[str], tuple[Piece, ...]]) -> _Form:
    e164 = _berlin(rng)
    return _foreign(write(_nsn(e164)[2:]), e164)


def _slash_makers() -> list[Maker]:
    return [
        # 0151/23456789: a German mobile; +47 23456789 is a stranger
        lambda rng, _: _de_mobile(rng, lambda t: _span(f"0151/{t}")),
        # 0151 / 23456789
        lambda rng, _: _de_mobile(rng, lambda t: _span(f"0151 / {t}")),
        # 030/1234567 (Berlin)
        lambda rng, _: _de_landline(rng, lambda t: _span(f"030/{t}")),
        # +49 30/1234567
        lambda rng, _: _de_landline(rng, lambda t: _span(f"+49 30/{t}")),
    ]


def _se(rng: random.Random, write: Callable[[str], str]) -> _Form:
    e164 = _valid_number(rng, "SE", _NATIONAL["SE"])
    return _foreign(_span(write(_nsn(e164))), e164)


def _gb(rng: random.Random, write: Callable[[str], str]) -> _Form:
    e164 = _valid_number(rng, "GB", _NATIONAL["GB"])
    return _foreign(_span(write(_nsn(e164))), e164)


def _dk(rng: random.Random, write: Callable[[str], str]) -> _Form:
    e164, tail = _no_tail_number(rng, "DK", "")
    # The same 8 digits are a Norwegian number: a Danish number must not erase its owner.
    return _foreign(_span(write(tail)), e164, (_no_reading(tail),))


def _nl(rng: random.Random, write: Callable[[str], str]) -> _Form:
    while True:
        rest = rng.choice("45") + "".join(rng.choice("0123456789") for _ in range(7))
        number = phonenumbers.parse("06" + rest, "NL")
        if phonenumbers.is_valid_number(number):
            return _foreign(_span(write(rest)), f"+316{rest}", (_no_reading(rest),))


def _fi(rng: random.Random, write: Callable[[str], str]) -> _Form:
    e164 = _valid_number(
        rng, "FI", lambda r: "04" + r.choice("0145") + "".join(r.choice("0123456789") for _ in range(7))
    )
    return _foreign(_span(write(_nsn(e164))), e164)


def _national_foreign_makers() -> list[Maker]:
    return [
        # 070-123 45 67 (SE)
        lambda rng, _: _se(rng, lambda n: f"0{n[:2]}-{n[2:5]} {n[5:7]} {n[7:]}"),
        # 070 123 45 67 (SE)
        lambda rng, _: _se(rng, lambda n: f"0{n[:2]} {n[2:5]} {n[5:7]} {n[7:]}"),
        # 070-1234567 (SE)
        lambda rng, _: _se(rng, lambda n: f"0{n[:2]}-{n[2:]}"),
        # +46 (0)70-123 45 67: the trunk 0 in brackets after the country code
        lambda rng, _: _se(rng, lambda n: f"+46 (0){n[:2]}-{n[2:5]} {n[5:7]} {n[7:]}"),
        # 07400 123456 (GB)
        lambda rng, _: _gb(rng, lambda n: f"0{n[:4]} {n[4:]}"),
        # 07400 123 456 (GB)
        lambda rng, _: _gb(rng, lambda n: f"0{n[:4]} {n[4:7]} {n[7:]}"),
        # +44 (0)7400 123456 (GB)
        lambda rng, _: _gb(rng, lambda n: f"+44 (0){n[:4]} {n[4:]}"),
        # 030 1234567 (DE, Berlin)
        lambda rng, _: _de_landline(rng, lambda t: _span(f"030 {t}")),
        # (030) 1234567
        lambda rng, _: _de_landline(rng, lambda t: _span(f"(030) {t}")),
        # 0151 23456789 (DE mobile; +47 23456789 is a stranger)
        lambda rng, _: _de_mobile(rng, lambda t: _span(f"0151 {t}")),
        # (0151) 23456789
        lambda rng, _: _de_mobile(rng, lambda t: _span(f"(0151) {t}")),
        # +49 (0)151 23456789
        lambda rng, _: _de_mobile(rng, lambda t: _span(f"+49 (0)151 {t}")),
        # +45 91234567 (DK; +47 91234567 is a stranger)
        lambda rng, _: _dk(rng, lambda t: f"+45 {t}"),
        # +45 9123 4567
        lambda rng, _: _dk(rng, lambda t: f"+45 {_g44(t)}"),
        # 0045 91 23 45 67
        lambda rng, _: _dk(rng, lambda t: f"0045 {_g2222(t)}"),
        # 06-41234567 (NL mobile; +47 41234567 is a stranger)
        lambda rng, _: _nl(rng, lambda t: f"06-{t}"),
        # 06 4123 4567
        lambda rng, _: _nl(rng, lambda t: f"06 {_g44(t)}"),
        # 040 123 4567 (FI)
        lambda rng, _: _fi(rng, lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}"),
    ]


def _unambiguous(rng: random.Random, region: str, national: Callable[[random.Random], str]) -> str:
    """A valid number of ``region`` whose national digits are no Norwegian number (CONTRACT §9)."""
    while True:
        e164 = _valid_number(rng, region, national)
        if _no_reading(_nsn(e164)) is None:
            return e164


def _own_national_makers() -> list[Maker]:
    """A foreign number of a country without trunk 0 in that country's national form: found
    when the request names exactly that number (issue 21)."""

    def dk(write: Callable[[str], str]) -> Maker:
        return lambda rng, _: _foreign(
            _span(write(_nsn(e164 := _unambiguous(rng, "DK", lambda r: r.choice("2345") + _digits(r, 7))))), e164
        )

    def pl(write: Callable[[str], str]) -> Maker:
        return lambda rng, _: _foreign(
            _span(write(_nsn(e164 := _valid_number(rng, "PL", lambda r: r.choice("5678") + _digits(r, 8))))), e164
        )

    def us(write: Callable[[str], str]) -> Maker:
        return lambda rng, _: _foreign(
            _span(write(_nsn(e164 := _valid_number(rng, "US", lambda r: "2" + _digits(r, 9, "0123456789"))))), e164
        )

    return [
        dk(lambda n: f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:]}"),  # 20 12 34 56
        dk(lambda n: f"{n[:4]} {n[4:]}"),  # 2012 3456
        dk(lambda n: f"{n[:2]}-{n[2:4]}-{n[4:6]}-{n[6:]}"),  # 20-12-34-56
        pl(lambda n: f"{n[:3]} {n[3:6]} {n[6:]}"),  # 512 345 678
        pl(lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}"),  # 512-345-678
        pl(lambda n: f"{n[:2]} {n[2:5]} {n[5:7]} {n[7:]}"),  # 51 234 56 78 (a landline grouping)
        us(lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}"),  # 201-234-5678
        us(lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}"),  # 201.234.5678
        us(lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}"),  # (201) 234-5678
        us(lambda n: f"1-{n[:3]}-{n[3:6]}-{n[6:]}"),  # 1-201-234-5678
    ]


def _split_email_makers() -> list[Maker]:
    """Addresses wrapped across lines, glued to the next word, or spelt out."""

    def wrapped_local(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        cut = local.index(".") + 2  # inside the last name, after the dot
        return _email(_span(f"{local[:cut]}\n{local[cut:]}@{domain}"), cast.person.email)

    def wrapped_domain(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_span(f"{local}@{domain[:3]}\r\n{domain[3:]}"), cast.person.email)

    def wrapped_quoted(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(
            _around("\n> Skriv til ", f"{local}@{domain[:4]}\n> {domain[4:]}", " takk."), cast.person.email, "quote"
        )

    def glued_capital(rng: random.Random, cast: _Cast) -> _Form:
        return _email(_around("", cast.person.email, "Takk for hjelpen."), cast.person.email, "bare")

    def glued_lower(rng: random.Random, cast: _Cast) -> _Form:
        if not cast.person.email.endswith((".no", ".com")):
            return glued_capital(rng, cast)
        return _email(_around("", cast.person.email, "hilsen"), cast.person.email, "bare")

    def spelt(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_span(f"{local} at {domain}"), cast.person.email)

    def spelt_dot(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_span(f"{local} AT {domain.replace('.', ' dot ')}"), cast.person.email)

    def subaddress(rng: random.Random, cast: _Cast) -> _Form:
        # linn.andreassen7+2024@…: the '+' is the address's, never a space between numbers.
        local, domain = _split(cast.person.email)
        address = f"{local}+{rng.randint(2020, 2026)}@{domain}"
        return _email(_span(address), address, negatives=(cast.person.email,))

    return [wrapped_local, wrapped_domain, wrapped_quoted, glued_capital, glued_lower, spelt, spelt_dot, subaddress]


def _email(pieces: tuple[Piece, ...], address: str, place: str = "sentence", negatives: Iterable[str] = ()) -> _Form:
    identifier = parse_email(address)
    return _Form(pieces, identifier, "email", place, tuple(parse_email(n) for n in negatives if n))


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.partition("@")
    return local, domain


def _unicode_email_makers() -> list[Maker]:
    def fullwidth_at(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_span(f"{local}\uff20{domain}"), cast.person.email)

    def fullwidth_dot(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_span(f"{local}\uff20{domain.replace('.', chr(0xFF0E))}"), cast.person.email)

    return [fullwidth_at, fullwidth_at, fullwidth_dot]


def _html_email_makers() -> list[Maker]:
    def at_entity(entity: str) -> Maker:
        def make(rng: random.Random, cast: _Cast) -> _Form:
            local, domain = _split(cast.person.email)
            return _email(_span(f"{local}{entity}{domain}"), cast.person.email)

        return make

    def mailto_link(rng: random.Random, cast: _Cast) -> _Form:
        a = cast.person.email
        pieces = (('<a href="mailto:', False), (a, True), ('">', False), (a, True), ("</a>", False))
        return _email(pieces, a)

    def mailto_named(rng: random.Random, cast: _Cast) -> _Form:
        return _email(_around('<a href="mailto:', cast.person.email, '">Send e-post</a>'), cast.person.email)

    def escaped_angle(rng: random.Random, cast: _Cast) -> _Form:
        return _email(_around(f"{cast.first} {cast.last} &lt;", cast.person.email, "&gt;"), cast.person.email)

    def cell(rng: random.Random, cast: _Cast) -> _Form:
        return _email(_around("<td>", cast.person.email, "</td>"), cast.person.email)

    def every_char(rng: random.Random, cast: _Cast) -> _Form:
        # What "email obfuscators" make of an address: every character a decimal entity.
        return _email(_span("".join(f"&#{ord(c)};" for c in cast.person.email)), cast.person.email)

    return [
        at_entity("&#64;"),  # kari&#64;example.no
        at_entity("&#x40;"),  # kari&#x40;example.no
        at_entity("&commat;"),  # kari&commat;example.no
        mailto_link,  # <a href="mailto:kari@x.no">kari@x.no</a>: two spans
        mailto_named,  # <a href="mailto:kari@x.no">Send e-post</a>
        escaped_angle,  # Kari Nordmann &lt;kari@x.no&gt;
        cell,  # <td>kari@x.no</td>
        every_char,  # &#107;&#97;…
    ]


def _percent_email_makers() -> list[Maker]:
    def mailto(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_around("mailto:", f"{local}%40{domain}"), cast.person.email)

    def query(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_around("https://x.no/kontakt?email=", f"{local}%40{domain}", "&x=1"), cast.person.email)

    def tagged(rng: random.Random, cast: _Cast) -> _Form:
        domain = _split(cast.person.email)[1]
        address = f"{cast.first.lower()}+crm@{domain}"
        return _email(_around("?e=", f"{cast.first.lower()}%2Bcrm%40{domain}", "&src=web"), address, "sentence")

    def encoded_colon(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_around("href=mailto%3A", f"{local}%40{domain}"), cast.person.email)

    return [mailto, query, tagged, encoded_colon]


def _uri_email_makers() -> list[Maker]:
    def scheme(before: str, after: str = "", upper: bool = False) -> Maker:
        def make(rng: random.Random, cast: _Cast) -> _Form:
            a = cast.person.email
            written = a[:1].upper() + a[1:] if upper else a
            return _email(_around(before, written, after), a)

        return make

    return [
        scheme("sip:"),  # sip:kari@example.no: the SIP address is the identifier
        scheme("mailto:", "?subject=Hei"),  # mailto:kari@x.no?subject=Hei
        scheme("MAILTO:", upper=True),  # MAILTO:Kari@x.no
        scheme("<mailto:", ">"),  # <mailto:kari@x.no>
        scheme("sips:", ";transport=tls"),  # sips:kari@x.no;transport=tls
        scheme("mailto:", "?subject=Ang%C3%A5ende%20ordre&body=Hei"),  # mailto with an encoded subject
    ]


_IRISH = ("neill", "brien", "connor", "sullivan", "reilly", "hara")
_ITALIAN = ("angelo", "amico", "alessandro", "onofrio", "arcy")


def _apostrophe_makers() -> list[Maker]:
    def make(build: Callable[[random.Random, _Cast], tuple[str, str]], title: bool = False) -> Maker:
        def maker(rng: random.Random, cast: _Cast) -> _Form:
            address, stranger = build(rng, cast)
            # The tail after the apostrophe/tag is another, shorter address: never the person's.
            written = "".join(p[:1].upper() + p[1:] for p in _keep_split(address)) if title else address
            return _email(_span(written), address, "sentence", (stranger,))

        return maker

    def first(cast: _Cast) -> str:
        return cast.first.lower()

    def last(cast: _Cast) -> str:
        return cast.last.lower()

    return [
        # sean.o'neill@example.ie
        make(lambda r, c: (f"{first(c)}.o'{(n := r.choice(_IRISH))}@example.ie", f"{n}@example.ie")),
        # d'angelo@x.it
        make(lambda r, c: (f"d'{(n := r.choice(_ITALIAN))}@posta.it", f"{n}@posta.it")),
        # kari+crm@x.no
        make(lambda r, c: (f"{first(c)}+crm@x.no", "crm@x.no")),
        # first_last@x.no
        make(lambda r, c: (f"{first(c)}_{last(c)}@x.no", f"{last(c)}@x.no")),
        # o'brien.kate@x.co.uk
        make(lambda r, c: (f"o'{(n := r.choice(_IRISH))}.{first(c)}@x.co.uk", f"{n}.{first(c)}@x.co.uk")),
        # O'Neill@Example.ie, capitalised as people write names
        make(lambda r, c: (f"o'{(n := r.choice(_IRISH))}@example.ie", f"{n}@example.ie"), title=True),
        # kari-anne.hansen@x.no
        make(lambda r, c: (f"{first(c)}-anne.{last(c)}@x.no", f"anne.{last(c)}@x.no")),
        # ola.nordmann+faktura@x.no
        make(lambda r, c: (f"{first(c)}.{last(c)}+faktura@x.no", "faktura@x.no")),
        # 7.hansen@x.no: a local part that starts with digits
        make(lambda r, c: (f"{r.randint(1, 99)}.{last(c)}@x.no", f"{last(c)}@x.no")),
        # jean-luc.d'arcy@x.fr
        make(lambda r, c: (f"jean-luc.d'{(n := r.choice(_ITALIAN))}@x.fr", f"{n}@x.fr")),
    ]


def _keep_split(address: str) -> list[str]:
    """``address`` cut after each apostrophe, dot and @, so each part can be capitalised."""
    parts, current = [], ""
    for c in address:
        current += c
        if c in "'.@":
            parts.append(current)
            current = ""
    return [*parts, current]


# (before, after, place): what stands around an address; the span is the address only.
_PUNCTUATION: tuple[tuple[str, str, str], ...] = (
    ("", ".Takk for hjelpen!", "bare"),  # glued to the next sentence
    ("(", ")", "bare"),
    ("", ",", "bare"),
    ("", ";", "bare"),
    ("", "!", "bare"),
    ("", "?", "bare"),
    ("", "...", "bare"),
    ("", "\u2026", "bare"),  # the ellipsis character
    ("", ">", "bare"),
    ('"', '"', "bare"),
    ("<", ">", "bare"),
    ("", ".", "end"),  # the end of the text
    ("\u00ab", "\u00bb", "bare"),  # «Norwegian quotes»
    ("\u201c", "\u201d", "bare"),  # “typographic quotes”
    ("'", "'", "bare"),  # single quotes: a leading apostrophe is legal but nobody's address
    ("[", "]", "bare"),
    ("", ":", "bare"),
    ("e-post:", "", "bare"),  # a label glued in front
    ("", ").", "bare"),
    ("", "\u2014takk", "bare"),  # an em dash glued after
    ("", ".\n", "bare"),
    ("(", ").Mvh", "bare"),
)


def _punctuation_makers() -> list[Maker]:
    def make(before: str, after: str, place: str) -> Maker:
        def maker(rng: random.Random, cast: _Cast) -> _Form:
            a = cast.person.email
            written = a if rng.random() < 0.6 else a[:1].upper() + a[1:]
            return _email(_around(before, written, after), a, place)

        return maker

    return [make(*p) for p in _PUNCTUATION]


_IDN_DOMAINS = ("blå.no", "bål.no", "tromsø.no", "søk.no", "ærlig.no", "bærum.no", "møre.no", "åsane.no")


def _ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("æ", "ae").replace("ø", "o"))
    return "".join(c for c in folded if c.isascii())


def _punycode_makers() -> list[Maker]:
    def make(write: Callable[[str, str], tuple[str, str]]) -> Maker:
        def maker(rng: random.Random, cast: _Cast) -> _Form:
            local = f"{cast.first}.{cast.last}".lower()
            written, domain = write(local, rng.choice(_IDN_DOMAINS))
            # The request names the domain in the form the text does not (or the same one):
            # parse_email makes one identifier of both.
            address = parse_email(f"{local}@{domain.encode('idna').decode('ascii')}")
            # Folding the letters away is another domain: somebody else's address.
            return _email(_span(written), address, "sentence", (f"{local}@{_ascii_fold(domain)}",))

        return maker

    def puny(domain: str) -> str:
        return domain.encode("idna").decode("ascii")

    return [
        make(lambda lo, d: (f"{lo}@{puny(d)}", d)),  # kari@xn--bl-zia.no, requested as kari@blå.no
        make(lambda lo, d: (f"{lo}@{puny(d)}".upper(), d)),  # KARI@XN--BL-ZIA.NO
        make(lambda lo, d: (f"{lo.title()}@{d.title()}", d)),  # Kari.Nordmann@Blå.No
        make(lambda lo, d: (f"{lo}@{d}", d)),  # kari@blå.no, requested as kari@xn--bl-zia.no
        make(lambda lo, d: (f"{lo}@{unicodedata.normalize('NFD', d)}", d)),  # å as a + combining ring
        make(lambda lo, d: (f"{lo}@post.{puny(d)}", f"post.{d}")),  # a subdomain
        make(lambda lo, d: (f"{lo}@{d.upper()}", d)),  # KARI@BLÅ.NO
    ]


def _unicode_local_makers() -> list[Maker]:
    def make(write: Callable[[_Cast], str]) -> Maker:
        def maker(rng: random.Random, cast: _Cast) -> _Form:
            written = write(cast)
            return _email(_span(written), written)

        return maker

    domain = "example.no"
    return [
        make(lambda c: f"kåre.{c.last.lower()}@{domain}"),  # kåre.hansen@example.no
        make(lambda c: f"Bjørn.Ødegård@{domain}"),  # capitals outside ASCII
        make(lambda c: f"{unicodedata.normalize('NFD', 'kåre.ås')}@{domain}"),  # decomposed å
        make(lambda c: f"øystein+crm@{domain}"),  # a tag after a non-ASCII local part
        make(lambda c: f"{c.first.lower()}.ødegård@{domain}"),  # non-ASCII at the end of the local part
        make(lambda c: f"ÆRLIG.{c.last.upper()}@{domain.upper()}"),  # all upper case
    ]


_OBFUSCATIONS: tuple[tuple[str, str], ...] = (
    (" (at) ", "."),  # kari (at) x.no
    (" [at] ", " [dot] "),  # kari [at] x [dot] no
    ("(at)", "."),  # kari(at)x.no
    (" {at} ", "."),  # kari {at} x.no
    (" [at] ", "."),  # kari [at] x.no
    (" (at) ", " (dot) "),  # kari (at) x (dot) no
    (" @ ", "."),  # kari @ x.no
    ("[@]", "."),  # kari[@]x.no
    (" (@) ", "."),  # kari (@) x.no
    ("(krøllalfa)", "."),  # the Norwegian name of @
    (" [at] ", " [punktum] "),  # the Norwegian "dot"
    (" <at> ", " <dot> "),  # kari <at> x <dot> no
    (" [AT] ", " [DOT] "),  # upper case
)


def _obfuscated_makers() -> list[Maker]:
    def make(at: str, dot: str) -> Maker:
        def maker(rng: random.Random, cast: _Cast) -> _Form:
            local, domain = _split(cast.person.email)
            return _email(_span(f"{local}{at}{domain.replace('.', dot)}"), cast.person.email)

        return maker

    return [make(at, dot) for at, dot in _OBFUSCATIONS]


def _mixed_email_makers() -> list[Maker]:
    def link(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        # <a href="mailto:kari%40x.no">kari&#64;x.no</a>: percent in the href, an entity in the text
        pieces = (
            ('<a href="mailto:', False),
            (f"{local}%40{domain}", True),
            ('">', False),
            (f"{local}&#64;{domain}", True),
            ("</a>", False),
        )
        return _email(pieces, cast.person.email)

    def fullwidth_glued(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_around("", f"{local}\uff20{domain}", ".Takk!"), cast.person.email, "bare")

    def quoted_obfuscated(rng: random.Random, cast: _Cast) -> _Form:
        local, domain = _split(cast.person.email)
        return _email(_around("\n> Skriv til ", f"{local} (at) {domain}", " om du vil."), cast.person.email, "quote")

    def quoted_idn(rng: random.Random, cast: _Cast) -> _Form:
        domain = rng.choice(_IDN_DOMAINS)
        address = f"{cast.first.lower()}@{domain}"
        return _email(_around('"', f"{cast.first}@{domain.title()}", '"'), address, "bare")

    return [link, fullwidth_glued, quoted_obfuscated, quoted_idn]


# ---------------------------------------------------------------------------------------------
# Texts stored still encoded: the whole case text encoded, its truths mapped (issue 21)
# ---------------------------------------------------------------------------------------------

# A text encoded character by character: the encoded text, and where each character's encoding
# starts and ends in it (a soft break or a word boundary may stand between two characters).
Encoded = tuple[str, list[int], list[int]]


def _mapped(pieces: Iterable[tuple[str, str]]) -> Encoded:
    """(before, encoding) per character -> the encoded text and each character's span."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for before, encoding in pieces:
        out.append(before)
        position += len(before)
        starts.append(position)
        out.append(encoding)
        position += len(encoding)
        ends.append(position)
    return "".join(out), starts, ends


def _quoted_printable(text: str) -> Encoded:
    """Quoted-printable as a mail store keeps a body: soft breaks at 76 characters (inside a
    number or an address too), '=' as =3D, every 8-bit byte escaped (=C3=B8)."""

    def pieces() -> Iterable[tuple[str, str]]:
        line = 0
        for i, ch in enumerate(text):
            nxt = text[i + 1 : i + 2]
            if (
                ch == "\n"
                or (ch == "\r" and nxt == "\n")
                or ((" " <= ch <= "~" and ch != "=") and not (ch == " " and nxt in ("\r", "\n")))
            ):
                encoding = ch
            else:
                encoding = "".join(f"={b:02X}" for b in ch.encode())
            soft = "=\n" if ch not in "\r\n" and line + len(encoding) > 75 else ""
            line = 0 if (soft or ch == "\n") else line
            line = 0 if ch == "\n" else line + len(encoding)
            yield soft, encoding

    return _mapped(pieces())


_Q_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _encoded_words(text: str) -> Encoded:
    """RFC 2047 "Q" words as a subject is stored undecoded: folded every 60 characters, so a
    number or an address may be split between two words."""

    def pieces() -> Iterable[tuple[str, str]]:
        length = 0
        for i, ch in enumerate(text):
            encoding = ch if ch in _Q_SAFE else "_" if ch == " " else "".join(f"={b:02X}" for b in ch.encode())
            if i == 0:
                before = "=?UTF-8?Q?"
            elif length + len(encoding) > 60:
                before, length = "?=\r\n =?UTF-8?Q?", 0
            else:
                before = ""
            length += len(encoding)
            yield before, encoding
        yield "?=", ""

    encoded, starts, ends = _mapped(pieces())
    return encoded, starts[:-1], ends[:-1]


_JSON_ESCAPED = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_string(text: str) -> Encoded:
    """A JSON string's content as .NET's default encoder writes it (and stored as it came through
    an integration): non-ASCII and '+', '<', '>', '&', "'" as \\uXXXX, '/' as '\\/'."""

    def escape(ch: str) -> str:
        if ch in _JSON_ESCAPED:
            return _JSON_ESCAPED[ch]
        if ch.isascii() and ch.isprintable() and ch not in "+<>&'":
            return ch
        data = ch.encode("utf-16-be")
        return "".join(f"\\u{int.from_bytes(data[k : k + 2], 'big'):04x}" for k in range(0, len(data), 2))

    return _mapped(("", escape(ch)) for ch in text)


_HTML_TWICE = {
    "&": "&amp;amp;",
    "<": "&amp;lt;",
    ">": "&amp;gt;",
    '"': "&amp;quot;",
    "\u00a0": "&amp;nbsp;",
    "+": "&amp;#43;",
}


def _html_twice(text: str) -> Encoded:
    """HTML escaped by two layers of a pipeline ("&amp;nbsp;", "&amp;#43;47")."""
    return _mapped(("", _HTML_TWICE.get(ch, ch)) for ch in text)


ENCODERS: dict[str, Callable[[str], Encoded]] = {
    "stored-quoted-printable": _quoted_printable,
    "stored-encoded-words": _encoded_words,
    "stored-json-escapes": _json_string,
    "stored-html-twice": _html_twice,
}
ENCODED_CLASSES: tuple[str, ...] = tuple(ENCODERS)


def _encoded_case(case: Case, encode: Callable[[str], Encoded]) -> Case:
    encoded, starts, ends = encode(case.text)
    truths = tuple((ident, tuple((starts[s], ends[e - 1]) for s, e in spans)) for ident, spans in case.truths)
    return Case(case.form_class, encoded, case.country, truths, case.negatives)


def _plain_email_maker(rng: random.Random, cast: _Cast) -> _Form:
    return _email(_span(cast.person.email), cast.person.email)


def _encodable_makers() -> list[Maker]:
    """Forms written in one line of running text (a subject or a JSON value holds no quoted reply)."""
    phone_forms_ = [
        form
        for name in ("unicode-space", "glued-label", "unicode-dash", "glued-name-address")
        for form in NO_PHONE_FORMS[name]
        if form.place != "quote"
    ]
    return [
        *(_phone_maker(form) for form in phone_forms_[::3]),
        _plain_email_maker,
        _plain_email_maker,
        *_unicode_local_makers(),
        *_own_national_makers()[::3],
    ]


def _wild_makers() -> list[Maker]:
    """Forms found in the bug trackers of tools that store mail and chat (issue 21): links rewritten
    by Proofpoint URL Defense (v2 "-XX" escapes, v3 "__…__" wrapping), subjects stored as a
    Q-encoded word with "=20" for spaces and cut short by the column (FreeScout #460), encoders that
    escape ASCII punctuation in quoted-printable (Apple Mail: "=2E", "=40"), and .NET's JSON
    encoders writing '+' as "\\u002B" or "\\u002b" (dotnet/runtime #35281, #50998)."""

    def phone(write: Callable[[str], tuple[Piece, ...]], place: str = "sentence") -> Maker:
        return lambda rng, cast: _Form(write(_nsn(cast.person.phone)), cast.person.phone, "phone", place)

    def email(write: Callable[[str, str], tuple[Piece, ...]], place: str = "sentence") -> Maker:
        return lambda rng, cast: _email(write(*_split(cast.person.email)), cast.person.email, place)

    def q20(text: str) -> str:
        return "".join(
            ch if ch.isascii() and ch.isalnum() else "".join(f"={b:02X}" for b in ch.encode()) for ch in text
        )

    return [
        email(
            lambda lo, do: _around(
                "https://urldefense.proofpoint.com/v2/url?u=mailto-3A", f"{lo}-40{do}", "&d=DwMFaQ&c=x"
            )
        ),
        phone(lambda d: _around("https://urldefense.proofpoint.com/v2/url?u=tel-3A", f"-2B47{d}", "&d=DwMFaQ&c=x")),
        email(lambda lo, do: _around("https://urldefense.com/v3/__mailto:", f"{lo}@{do}", "__;!!Fjc1LPEtn8I!xY$")),
        phone(lambda d: _around("https://urldefense.com/v3/__tel:", f"+47{d}", "__;!!Fjc1LPEtn8I!xY$")),
        phone(lambda d: _around("=?utf-8?Q?Ring=20meg=20p=C3=A5=20", q20(_g323(d))), "end"),
        email(lambda lo, do: _span(f"{lo.replace('.', '=2E')}=40{do.replace('.', '=2E')}")),
        phone(lambda d: _span(f"\\u002B47 {_g323(d)}")),
        phone(lambda d: _span(f"\\u002b47{d}")),
    ]


# Form class -> every way of writing something in it (NO mobiles first, then the rest).
_MAKERS: dict[str, list[Maker]] = {name: [_phone_maker(f) for f in forms] for name, forms in NO_PHONE_FORMS.items()}
_MAKERS["unicode-digits"] += _unicode_email_makers()
_MAKERS["html"] += _html_email_makers()
_MAKERS["percent-encoding"] += _percent_email_makers()
_MAKERS["uri"] += _uri_email_makers()
_MAKERS["slash-groups"] += _slash_makers()
_MAKERS["mixed"] += _mixed_email_makers()
_MAKERS["apostrophe-local"] = _apostrophe_makers()
_MAKERS["address-punctuation"] = _punctuation_makers()
_MAKERS["punycode"] = _punycode_makers()
_MAKERS["unicode-local"] = _unicode_local_makers()
_MAKERS["obfuscated"] = _obfuscated_makers()
_MAKERS["national-foreign"] = _national_foreign_makers()
_MAKERS["own-national-foreign"] = _own_national_makers()
_MAKERS["address-split-glued"] = _split_email_makers()
_MAKERS["found-in-the-wild"] = _wild_makers()
for _encoded_class in ENCODED_CLASSES:
    _MAKERS[_encoded_class] = _encodable_makers()

FORM_CLASSES: tuple[str, ...] = (
    "unicode-dash",
    "unicode-space",
    "unicode-digits",
    "glued-label",
    "line-wrap",
    "html",
    "percent-encoding",
    "uri",
    "slash-groups",
    "apostrophe-local",
    "address-punctuation",
    "punycode",
    "unicode-local",
    "obfuscated",
    "national-foreign",
    "odd-spacing",
    "mixed",
    "line-separator",
    "glued-name-address",
    "own-national-foreign",
    "address-split-glued",
    "found-in-the-wild",
    "any-separator",
    *ENCODED_CLASSES,
)
assert set(FORM_CLASSES) == set(_MAKERS)


# ---------------------------------------------------------------------------------------------
# Distractors: digits that are nobody's number
# ---------------------------------------------------------------------------------------------


def _digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _mod11(digits: str, weights: tuple[int, ...]) -> str | None:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - rest) % 11
    return None if check == 10 else str(check)


def _luhn(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def _account(rng: random.Random) -> str:
    """A Norwegian bank account number (11 digits, mod 11); bank codes from 9 and 4 look like mobiles."""
    while True:
        head = rng.choice(("1503", "1594", "1201", "9710", "4202", "9235", "4312")) + _digits(rng, 6)
        check = _mod11(head, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
        if check is not None:
            return head + check


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def _group4(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _org_number(rng: random.Random) -> str:
    while True:
        head = _digits(rng, 8, "89")
        check = _mod11(head, (3, 2, 7, 6, 5, 4, 3, 2))
        if check is not None:
            return head + check


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1, 28), rng.randint(1, 12), rng.choice((2023, 2024, 2025, 2026))


def _amount(rng: random.Random, sep: str = " ") -> str:
    # Millions, often 8 digits starting with 4 or 9: the digits of a mobile number.
    value = int(_digits(rng, rng.choice((5, 7, 8)), "14569"))
    return f"{value:,}".replace(",", sep)


def _card(rng: random.Random, first: str) -> str:
    head = first + _digits(rng, 15 - len(first))
    return head + _luhn(head)


# Distractor class -> phrases (whole sentences, starting with a letter) with no number or address in them.
_DISTRACTORS: dict[str, tuple[Callable[[random.Random], str], ...]] = {
    "iban": (
        lambda r: f"Beløpet kan betales til IBAN {_group4(_iban('NO', _account(r)))}.",
        lambda r: f"IBAN: {_iban('NO', _account(r))}, BIC DNBANOKK",
        lambda r: f"Our IBAN is {_group4(_iban('DE', _digits(r, 8, '123456789') + _digits(r, 10)))}.",
        lambda r: f"Bitte überweisen Sie an {_iban('DE', _digits(r, 8, '123456789') + _digits(r, 10))}.",
    ),
    "account": (
        lambda r: f"Kontonummer {(a := _account(r))[:4]}.{a[4:6]}.{a[6:]}.",
        lambda r: f"Pengene går til konto {(a := _account(r))[:4]} {a[4:6]} {a[6:]} innen fredag.",
        lambda r: f"Refunded to account {_account(r)}.",
    ),
    "org-number": (
        lambda r: f"Org.nr. {(o := _org_number(r))[:3]} {o[3:6]} {o[6:]} MVA",
        lambda r: f"Foretaksregisteret NO {_org_number(r)} MVA",
        lambda r: f"Organisasjonsnummer: {(o := _org_number(r))[:3]} {o[3:6]} {o[6:]}.",
        lambda r: f"Company reg. no. {_org_number(r)}",
    ),
    "date": (
        lambda r: "Fakturadato {2}{1:02d}{0:02d}.".format(*_date(r)),
        lambda r: "Vi mottok brevet {:02d}.{:02d}.{}.".format(*_date(r)),
        lambda r: "Leveres {2}-{1:02d}-{0:02d}.".format(*_date(r)),
        lambda r: "Due date {:02d}/{:02d}/{}.".format(*_date(r)),
        lambda r: "Opprettet {2}-{1:02d}-{0:02d}T14:30:00+01:00 av systemet.".format(*_date(r)),
        lambda r: "Dato: {:02d}.{:02d}.{} kl. 09:15".format(*_date(r)),
        lambda r: "Sendt {}.{}.{} {:02d}:{:02d}".format(*_date(r), r.randint(8, 20), r.randint(0, 59)),
    ),
    "amount": (
        lambda r: f"Totalt kr {_amount(r)},00 inkl. mva.",
        lambda r: f"Restbeløp {_amount(r)} NOK.",
        lambda r: f"Kontraktsverdi kr {_amount(r, chr(0xA0))},00",
        lambda r: f"Saldo: NOK {_amount(r)},50",
        lambda r: f"Beløp kr {_amount(r, '.')},-",
        lambda r: f"Total EUR {_amount(r, '.')},00",
    ),
    "order-id": (
        lambda r: f"Ordre ORD-{_digits(r, 8, '49')} er sendt.",
        lambda r: f"Saken har nummer #{_digits(r, 8, '49')}-01.",
        lambda r: f"Booking AB{_digits(r, 8, '49')} er bekreftet.",
        lambda r: f"Ticket INC{_digits(r, 8, '49')} is closed.",
        lambda r: f"Ordre {r.randint(10, 99)}-{_digits(r, 8, '49')} er levert.",
        lambda r: f"Sporingsnummer {_digits(r, 17, '7')} hos Posten.",
        lambda r: f"Saksnr. {r.randint(20, 26)}/{_digits(r, 5)} gjelder deg.",
    ),
    "postcode": (
        lambda r: f"Adresse Storgata {r.randint(1, 120)}, {_digits(r, 4)} Oslo.",
        lambda r: f"Postboks {_digits(r, 4, '49')}, {_digits(r, 4, '05')} Bergen",
        lambda r: f"Kongens gate {r.randint(1, 60)}B, {_digits(r, 4, '7')} Trondheim",
        lambda r: f"Postboks {_digits(r, 4, '49')} Sentrum, {_digits(r, 4, '0')} Oslo",
        lambda r: f"Returadresse Postboks {_digits(r, 4, '49')} {_digits(r, 4, '05')} Bergen",
    ),
    "time": (
        lambda r: "Vi har åpent kl. 14:30\u201315:45 i dag.",
        lambda r: f"Åpent {r.randint(7, 9):02d}.00\u2013{r.randint(15, 17)}.30 på hverdager.",
        lambda r: f"Vi har åpent kl {r.randint(7, 9):02d}00-{r.randint(15, 17)}00.",
        lambda r: f"Office hours {r.randint(7, 9):02d}:00-{r.randint(15, 17)}:00 CET.",
        lambda r: f"Møtet er {r.randint(9, 14)}.30-{r.randint(15, 16)}.45 på torsdag.",
    ),
    "kid": (
        lambda r: f"KID: {(k := _digits(r, r.choice((6, 8, 10, 12, 14)), '123456789'))}{_luhn(k)}",
        lambda r: f"Bruk KID-nummer {(k := _digits(r, r.choice((12, 16, 24)), '123456789'))}{_luhn(k)} ved betaling.",
        lambda r: f"Husk KID {(k := _digits(r, 9, '49'))}{_luhn(k)} når du betaler.",
    ),
    "card": (
        lambda r: "Testkort 4111 1111 1111 1111 er avvist.",
        lambda r: f"Kortnummer {_group4(_card(r, '4'))} er sperret.",
        lambda r: f"Card {'-'.join(_group4(_card(r, '5')).split())} was charged.",
        lambda r: f"Betalt med kort **** **** **** {_digits(r, 4)}.",
    ),
    # Digits a currency stands beside, on either side, in any grouping (issue 21).
    "currency": (
        lambda r: f"Du skylder {_digits(r, 8, '49')} kroner.",
        lambda r: f"Refusjon € {_digits(r, 8, '49')} er sendt.",
        lambda r: f"{_digits(r, 8, '49')} EUR er betalt.",
        lambda r: f"Pris {_digits(r, 8, '49')},- inkl. mva.",
        lambda r: f"Saldo {(d := _digits(r, 8, '49'))[:3]} {d[3:5]} {d[5:]} kr",
        lambda r: f"NOK{_digits(r, 8, '49')} trukket.",
    ),
    # An address on the network and versions: never a number (issue 21).
    "network-version": (
        lambda r: f"IP {(d := _digits(r, 8, '49'))[:2]}.{d[2:4]}.{d[4:6]}.{d[6:]} er blokkert.",
        lambda r: f"Serveren {(d := _digits(r, 8, '49'))[0]}.{d[1:3]}.{d[3:5]}.{d[5:]} svarte ikke.",
        lambda r: f"Oppdater appen til v{(d := _digits(r, 8, '49'))[0]}.{d[1:3]}.{d[3:]}.",
        lambda r: f"Kjører versjon {(d := _digits(r, 8, '49'))[0]}.{d[1:3]}.{d[3:5]}.{d[5:]}.",
        lambda r: f"Fra ip-adresse 10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}.",
        lambda r: f"Build {_digits(r, 8, '49')} feilet.",
    ),
}
DISTRACTOR_CLASSES: tuple[str, ...] = tuple(_DISTRACTORS)


def _context_distractor(rng: random.Random, e164: str) -> str:
    """The stranger's own digits where context says they are no number (issue 21)."""
    d = _nsn(e164)
    return rng.choice(
        (
            f"Du skylder {d} kroner.",
            f"Refusjon {d} EUR.",
            f"IP {d[:2]}.{d[2:4]}.{d[4:6]}.{d[6:]} er blokkert.",
            f"Versjon {d[0]}.{d[1:3]}.{d[3:5]}.{d[5:]}.",
            f"Oppdater til v{d[0]}.{d[1:3]}.{d[3:]}.",
            f"Pris {d},-.",
        )
    )


def distractor_texts(seed: int = 11, n: int = 200) -> list[tuple[str, str]]:
    """``n`` (distractor class, text) pairs in which no phone number and no address is written."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        name = DISTRACTOR_CLASSES[i % len(DISTRACTOR_CLASSES)]
        texts.append((name, rng.choice(_DISTRACTORS[name])(rng)))
    return texts


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

_NO_OPENERS = ("Hei!", "Hei, jeg har et spørsmål.", "God dag.", "Hallo, takk for svar.")
_EN_OPENERS = ("Hi there.", "Hello, quick question.", "Good morning.", "Hi, thanks for getting back to me.")
_PHONE_SENTENCES = {
    False: ("Du kan ringe meg på {x}.", "Nummeret mitt er {x}", "Send SMS til {x}, takk.", "Ring {x} etter kl. 16."),
    True: ("You can call me on {x}.", "My number is {x}", "Text me at {x} please.", "Call {x} after 4 pm."),
}
_EMAIL_SENTENCES = {
    False: ("Svar gjerne til {x}.", "E-post: {x}", "Send kopi til {x} takk.", "Adressen min er {x} nå."),
    True: ("Please reply to {x}.", "Email: {x}", "Copy {x} on the reply, thanks.", "My address is {x} now."),
}
# The form carries its own label or punctuation: nothing may be glued to it from the template.
_BARE_SENTENCES = {
    False: ("Kontakt {x}", "Ny info: {x}", "Nås {x}"),
    True: ("Contact {x}", "New info: {x}", "Reach {x}"),
}
_OTHER_SENTENCES = {
    False: ("Du kan også nå {n} på {x}.", "Naboen {n} ({x}) tar imot pakken."),
    True: ("You can also reach {n} on {x}.", "My neighbour {n} ({x}) will take the parcel."),
}
_FILLER = {False: ("Gjelder {d}.", "Jeg viser til {d}.", "Se {d}."), True: ("About {d}.", "Regarding {d}.", "See {d}.")}


def _sentence(b: _Builder, template: str, form: _Form) -> None:
    before, _, after = template.partition("{x}")
    b.add(before)
    b.pieces(form.pieces, form.identifier)
    b.add(after)


def _person(rng: random.Random, index: int, seen: set[str]) -> tuple[Person, str, str]:
    while True:
        phone = _valid_number(rng, "NO", _NATIONAL["NO"])
        if phone not in seen:
            seen.add(phone)
            break
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    domain = rng.choice(("example.no", "example.com", "post.example.no", "firma.no"))
    return Person(f"{first} {last}", phone, f"{first}.{last}{index}@{domain}".lower()), first, last


def _case(form_class: str, rng: random.Random, form: _Form, cast: _Cast) -> Case:
    english = rng.random() < 0.4
    b = _Builder()
    b.add(rng.choice(_EN_OPENERS if english else _NO_OPENERS))
    if rng.random() < 0.3:
        b.add(" " + rng.choice(_DISTRACTORS[rng.choice(DISTRACTOR_CLASSES)])(rng))
    if form.place == "quote":
        day, month, year = _date(rng)
        header = (
            f"On {day:02d}/{month:02d}/{year} at 14:{rng.randint(10, 59)}, {cast.person.name} wrote:"
            if english
            else f"Den {day:02d}.{month:02d}.{year} kl. 14:{rng.randint(10, 59)} skrev {cast.person.name}:"
        )
        b.add(f"\n\n{header}")
        b.pieces(form.pieces, form.identifier)
        b.add(f"\n> Mvh {cast.first}\n\n")
    elif form.place != "end":
        b.add(" ")
        templates: tuple[str, ...]
        if form.place == "bare":
            templates = _BARE_SENTENCES[english]
        else:
            templates = (_PHONE_SENTENCES if form.kind == "phone" else _EMAIL_SENTENCES)[english]
        _sentence(b, rng.choice(templates), form)
        b.add(" ")
    else:
        b.add(" ")
    if rng.random() < 0.3:
        # Another person's number in an ordinary form: a true mention of someone else.
        template = rng.choice(_OTHER_SENTENCES[english])
        other_form = rng.choice(phone_forms(cast.other.phone, "NO"))
        before, _, after = template.replace("{n}", cast.other.name).partition("{x}")
        b.add(before)
        b.add(other_form, cast.other.phone)
        b.add(after + " ")
    # A distractor that shares the stranger's digits: the stranger must stay untouched.
    stranger = Person("", cast.stranger, "")
    b.add(rng.choice(_FILLER[english]).replace("{d}", _distractor(rng, [stranger])))
    if rng.random() < 0.3:
        b.add(" " + _context_distractor(rng, cast.stranger))
    if form.place == "end":
        b.add(" " + rng.choice(_EMAIL_SENTENCES[english]).partition("{x}")[0])
        b.pieces(form.pieces, form.identifier)
    truths = tuple(sorted((ident, tuple(spans)) for ident, spans in b.spans.items()))
    strangers = {cast.stranger, *form.negatives}
    if form.kind == "email":
        local, domain = _split(form.identifier)
        strangers.add(f"{local}x@{domain}")
    negatives = tuple(sorted(strangers - set(b.spans)))
    return Case(form_class, b.text, "NO", truths, negatives)


def hard_cases(seed: int = 11, per_class: int = 40) -> list[Case]:
    """``per_class`` cases of every form class, cycling through its variants; deterministic per seed."""
    rng = random.Random(seed)
    seen: set[str] = set()
    cases = []
    for form_class in FORM_CLASSES:
        makers = list(_MAKERS[form_class])
        rng.shuffle(makers)
        for i in range(per_class):
            person, first, last = _person(rng, len(seen), seen)
            other, _, _ = _person(rng, len(seen), seen)
            stranger, _, _ = _person(rng, len(seen), seen)
            cast = _Cast(person, first, last, other, stranger.phone)
            case = _case(form_class, rng, makers[i % len(makers)](rng, cast), cast)
            if form_class in ENCODERS:
                case = _encoded_case(case, ENCODERS[form_class])
            cases.append(case)
    return cases


def score_cases(cases: Iterable[Case]) -> dict[str, Score]:
    """Recall and precision of ``identifier_spans`` per form class, each occurrence at its exact span.

    Like ``corpus.evaluate``: every identifier of a case is a request on its own; a span it
    replaces that is not a true span counts against precision, a true span it misses against
    recall. Any span replaced for a negative identifier is a false positive.
    """
    from archivist.identifiers_text import identifier_spans

    scores: dict[str, Score] = {}
    for case in cases:
        score = scores.setdefault(case.form_class, Score())
        for identifier, spans in case.truths:
            predicted = set(identifier_spans(case.text, (identifier,), case.country))
            true = set(spans)
            score.true_positives += len(predicted & true)
            score.false_positives += len(predicted - true)
            score.false_negatives += len(true - predicted)
        for identifier in case.negatives:
            score.false_positives += len(identifier_spans(case.text, (identifier,), case.country))
    return scores
