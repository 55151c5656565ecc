"""Phone numbers and addresses as real systems write them (issue 21): the wild corpus.

Each row is a text in a form seen in a public source (cited per class) with what a person reading it
finds there: E.164 numbers and normalised addresses, or nothing (a distractor). The forms of
``hard_forms.py`` (Unicode dashes, spaces and digits, glued labels, quoted-reply wraps, HTML
entities, percent-encoding, tel:/sip:/wa.me links, stored encodings, Proofpoint) are not repeated.
``tests/unit/test_wild_forms.py`` holds the recogniser to it row by row; ``bench/forms.py``
reports recall and precision per class.
"""

from __future__ import annotations

from dataclasses import dataclass

# (id, text, solution country, the numbers a reader finds (E.164), the addresses a reader finds)
Row = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]

KARI = "+4791234567"
KARI_MAIL = "kari.nordmann@example.no"
OLA = "+4798765432"
OLA_MAIL = "ola.hansen@example.no"
OSLO = "+4722123456"
SWITCHBOARD = "+4721404200"

# ---------------------------------------------------------------------------------------------
# Extensions and dial strings. Sources: libphonenumber's extension patterns (ext, x, #, ;ext= and
# the comma pause; java/libphonenumber/src/com/google/i18n/phonenumbers/PhoneNumberUtil.java,
# extnPatternsForParsing); daddyz/phonelib#367 ("+16502530000 x136", " ext. 136");
# catamphetamine/libphonenumber-js#403 ("+16888888888,,9988776#") and #252 ("(213) 373-4253 (ext. 234)");
# ITU-T E.123 ("extension" / "ext." after the number); Android's dialer pause/wait characters
# (android.telephony.PhoneNumberUtils.PAUSE 'p' / WAIT 'w').
# ---------------------------------------------------------------------------------------------
EXTENSIONS: list[Row] = [
    ("ext-01", "Sentralbord 22 12 34 56 ext. 12, spør etter Kari", "NO", (OSLO,), ()),  # E.123 "ext."
    ("ext-02", "Tel: +1 201-555-0123 x12", "NO", ("+12015550123",), ()),  # "x" glued to the extension
    ("ext-03", "Office +1 (201) 555-0123 ext 4", "US", ("+12015550123",), ()),  # "ext" without a dot
    ("ext-04", "Direct: +44 121 234 5678 #123", "NO", ("+441212345678",), ()),  # "#" before the extension
    ("ext-05", "tel:+1-201-555-0123;ext=12", "NO", ("+12015550123",), ()),  # RFC 3966 ";ext="
    ("ext-06", "Ring +4722123456,,123# for kundeservice", "NO", (OSLO,), ()),  # dial string with pauses
    ("ext-07", "+1 650 253 0000 ext. 136", "US", ("+16502530000",), ()),  # phonelib#367's number
    ("ext-08", "+1 650 253 0000 x136", "NO", ("+16502530000",), ()),  # ditto, in a NO solution
    ("ext-09", "Hurtignummer +4722123456p12", "NO", (OSLO,), ()),  # Android's pause character
    ("ext-10", "(213) 373-4253 (ext. 234)", "US", ("+12133734253",), ()),  # libphonenumber-js#252
]

# ---------------------------------------------------------------------------------------------
# vCard. Sources: RFC 6350 §6.4.1 (TEL;VALUE=uri;PREF=1;TYPE="voice,home":tel:…;ext=…), §3.2
# (lines folded with CRLF + one space, removed when unfolded), §3.4 (escaped "\," and "\n");
# vCard 2.1 "TEL;CELL;VOICE:" (https://pastebin.com/Ay0WULmr); Apple's "item1.TEL;type=…" and
# "X-ABLabel" (vcard-generator's TEL.js comments, https://app.unpkg.com/vcard-generator@0.0.7/files/lib/TEL.js);
# Exchange's X-MS-TEL ([MS-OXVCARD] 2.1.3.9.5); vCard 2.1 quoted-printable names (Android exports).
# ---------------------------------------------------------------------------------------------
VCARD: list[Row] = [
    (
        "vcard-01",
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Kari Nordmann\r\n"
        'TEL;VALUE=uri;PREF=1;TYPE="voice,cell":tel:+47-912-34-567\r\n'
        f"EMAIL;TYPE=work:{KARI_MAIL}\r\nEND:VCARD",
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # a whole vCard 4.0
    ("vcard-02", "TEL;CELL;VOICE:91234567", "NO", (KARI,), ()),  # vCard 2.1 type list
    (
        "vcard-03",
        "item1.TEL;type=CELL;type=VOICE;type=pref:+47 912 34 567\r\nitem1.X-ABLabel:_$!<Mobile>!$_",
        "NO",
        (KARI,),
        (),
    ),  # Apple Contacts' grouped property and label
    ("vcard-04", "TEL;TYPE=cell:+47 912 3\r\n 4 567", "NO", (KARI,), ()),  # folded inside the number
    ("vcard-05", "EMAIL;TYPE=INTERNET:kari.nordmann@exam\r\n ple.no", "NO", (), (KARI_MAIL,)),  # folded in the domain
    ("vcard-06", "X-MS-TEL;TYPE=CALLBACK:+4791234567", "NO", (KARI,), ()),  # Exchange's callback number
    (
        "vcard-07",
        "NOTE:Ring 912 34 567\\, eller send e-post til kari@example.no\\nMvh Kari",
        "NO",
        (KARI,),
        ("kari@example.no",),
    ),  # vCard text escapes "\," and "\n"
    (
        "vcard-08",
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Nordmann;=C3=98ystein;;;\r\n"
        "TEL;CELL:+4791234567\r\nEMAIL;HOME:oystein.nordmann@example.no",
        "NO",
        (KARI,),
        ("oystein.nordmann@example.no",),
    ),  # vCard 2.1 with a quoted-printable name
    ("vcard-09", "TEL;TYPE=work,voice;VALUE=uri:tel:+47-22-12-34-56;ext=102", "NO", (OSLO,), ()),  # RFC 6350's ;ext=
    ("vcard-10", "EMAIL;type=INTERNET;type=WORK;type=pref:Kari.Nordmann@Example.no", "NO", (), (KARI_MAIL,)),  # Apple
]

# ---------------------------------------------------------------------------------------------
# iCalendar. Sources: RFC 5545 §3.8.4.1 ATTENDEE and §3.8.4.3 ORGANIZER (with SENT-BY), §3.1
# (content lines folded at 75 octets: CRLF + one space), §3.3.11 (TEXT escapes "\n", "\,");
# RFC 7986 §5.11 CONFERENCE ("tel:+1-412-555-0123,,,654321") and §6.4 EMAIL parameter;
# [MS-OXCICAL] 2.1.3.1.1.20.16 (ORGANIZER as a mailto URI, CN parameter).
# ---------------------------------------------------------------------------------------------
ICALENDAR: list[Row] = [
    ("ical-01", f'ORGANIZER;CN="Nordmann, Kari":mailto:{KARI_MAIL}', "NO", (), (KARI_MAIL,)),  # quoted CN with a comma
    (
        "ical-02",
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN={KARI_MAIL}:mailto:{KARI_MAIL}",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # the address as CN and as value
    (
        "ical-03",
        "ATTENDEE;CN=Kari Nordmann;RSVP=TRUE:mailto:kari.nordm\r\n ann@example.no",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # folded at 75 octets inside the local part
    ("ical-04", "LOCATION:Ring +47 912 3\r\n 4 567", "NO", (KARI,), ()),  # folded inside the number
    (
        "ical-05",
        "DESCRIPTION:Hei\\nRing meg på 91234567\\, eller skriv til kari@example.no\\nMvh Kari",
        "NO",
        (KARI,),
        ("kari@example.no",),
    ),  # TEXT escapes
    (
        "ical-06",
        f'ORGANIZER;SENT-BY="mailto:{OLA_MAIL}";CN=Kari Nordmann:mailto:{KARI_MAIL}',
        "NO",
        (),
        (KARI_MAIL, OLA_MAIL),
    ),  # SENT-BY
    (
        "ical-07",
        f"ATTENDEE;CN=Kari Nordmann;EMAIL={KARI_MAIL}:urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # RFC 7986 EMAIL parameter beside a urn:uuid
    (
        "ical-08",
        "CONFERENCE;VALUE=URI;FEATURE=PHONE;LABEL=Dial-in:tel:+47-21-40-42-00,,,123456789",
        "NO",
        (SWITCHBOARD,),
        (),
    ),  # the PIN after the pauses is no number
    (
        "ical-09",
        "DESCRIPTION:Kontakt: kari.nordmann@exa\r\n mple.no eller 912 34 567",
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # folded inside the domain
]

# ---------------------------------------------------------------------------------------------
# URI schemes with parameters. Sources: RFC 6068 §2 and §6 (mailto with "?cc=", "?to=", several
# addresses, "mailto:Mike%26family@example.org", "mailto:unlikely%3Faddress@example.com?blat=foop");
# RFC 3966 §5.1.5 (phone-context); RFC 5724 §2.2 (sms: with several recipients); Apple's
# facetime:/facetime-audio: and Skype's skype:…?call URI schemes; Viber's viber://chat?number=;
# Microsoft Teams deep links (https://learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/deep-link-teams);
# Telegram's t.me/+<number> and Signal's signal.me/#p/<number> links.
# ---------------------------------------------------------------------------------------------
URI_SCHEMES: list[Row] = [
    (
        "uri-01",
        f"mailto:{KARI_MAIL}?cc={OLA_MAIL}&subject=Hei",
        "NO",
        (),
        (KARI_MAIL, OLA_MAIL),
    ),  # a second address in ?cc=
    ("uri-02", "mailto:?to=kari.nordmann%40example.no&subject=Klage", "NO", (), (KARI_MAIL,)),  # the address in ?to=
    ("uri-03", f"mailto:{KARI_MAIL},{OLA_MAIL}", "NO", (), (KARI_MAIL, OLA_MAIL)),  # two addresses, comma-separated
    ("uri-04", "mailto:kari%26ola@example.no", "NO", (), ("kari&ola@example.no",)),  # RFC 6068's "%26" in a local part
    (
        "uri-05",
        "mailto:kari%3Fola@example.no?subject=Hei",
        "NO",
        (),
        ("kari?ola@example.no",),
    ),  # RFC 6068's "%3F" in a local part
    ("uri-06", "tel:912-34-567;phone-context=+47", "NO", (KARI,), ()),  # a local number with its context
    ("uri-07", "sms:+4791234567,+4798765432?body=hei", "NO", (KARI, OLA), ()),  # RFC 5724, two recipients
    ("uri-08", "viber://chat?number=%2B4791234567", "NO", (KARI,), ()),  # Viber
    ("uri-09", "skype:+4791234567?call", "NO", (KARI,), ()),  # Skype
    ("uri-10", f"facetime:{KARI_MAIL}", "NO", (), (KARI_MAIL,)),  # FaceTime with an address
    ("uri-11", "facetime-audio:+4791234567", "NO", (KARI,), ()),  # FaceTime audio with a number
    (
        "uri-12",
        f"https://teams.microsoft.com/l/chat/0/0?users={KARI_MAIL},{OLA_MAIL}",
        "NO",
        (),
        (KARI_MAIL, OLA_MAIL),
    ),  # Teams deep link
    ("uri-13", "https://t.me/+4791234567", "NO", (KARI,), ()),  # Telegram
    ("uri-14", "https://signal.me/#p/+4791234567", "NO", (KARI,), ()),  # Signal
]

# ---------------------------------------------------------------------------------------------
# Links rewritten, marked up or converted by mail and chat tools. Sources: Microsoft Defender Safe
# Links ("https://eur01.safelinks.protection.outlook.com/?url=…&data=…"); Google Docs/Gmail redirects
# ("https://www.google.com/url?q=…&sa=D"); click trackers that encode a URL twice ("%2540"); Slack
# mrkdwn "<mailto:…|…>" (https://api.slack.com/reference/surfaces/formatting); Markdown links as
# html2text writes them (Alir3z4/html2text#356: "[greg@example.com](mailto:greg@example.com)");
# plain-text conversions "foo@bar.com <mailto:foo@bar.com>" (tutao/tutanota#1435) and Outlook's
# glued "…<mailto:…>" / "…<tel:…>"; RainLoop's leftover attribute text (RainLoop/rainloop-webmail#75);
# an address in single quotes (roundcube/roundcubemail#7526); Markdown-escaped underscores
# ("x\_b\_and\_c@bar.com", vmg/redcarpet#558 and #402).
# ---------------------------------------------------------------------------------------------
LINKS: list[Row] = [
    (
        "link-01",
        "https://eur01.safelinks.protection.outlook.com/?url=mailto%3Akari.nordmann%40example.no&data=05%7C02%7C%7C",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # Safe Links around a mailto
    (
        "link-02",
        "https://eur01.safelinks.protection.outlook.com/?url=tel%3A%2B4791234567&data=05%7C02",
        "NO",
        (KARI,),
        (),
    ),  # Safe Links around a tel
    (
        "link-03",
        f"https://www.google.com/url?q=mailto:{KARI_MAIL}&sa=D&source=editors",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # Google's redirect
    (
        "link-04",
        "https://click.example.com/?u=https%3A%2F%2Fexample.no%2F%3Femail%3Dkari.nordmann%2540example.no",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # a URL encoded twice: "%2540" is "@"
    (
        "link-05",
        "https://click.example.com/?u=https%3A%2F%2Fexample.no%2Fring%3Ftel%3D%252B4791234567",
        "NO",
        (KARI,),
        (),
    ),  # ditto, "%252B" is "+"
    (
        "link-06",
        f'"text": "Ring <tel:+4791234567|912 34 567> eller <mailto:{KARI_MAIL}|{KARI_MAIL}>"',
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # Slack mrkdwn in an export
    ("link-07", f"Please email me at [{KARI_MAIL}](mailto:{KARI_MAIL}).", "NO", (), (KARI_MAIL,)),  # Markdown link
    ("link-08", f"My email address is {KARI_MAIL} <mailto:{KARI_MAIL}>", "NO", (), (KARI_MAIL,)),  # tutanota#1435
    (
        "link-09",
        f"{KARI_MAIL}<mailto:{KARI_MAIL}>\n+47 912 34 567<tel:+4791234567>",
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # Outlook's plain text, glued
    (
        "link-10",
        f'February 10 2014 8:13 AM, "Kari Nordmann" <" target="_blank"\ntabindex="-1">{KARI_MAIL}> wrote:',
        "NO",
        (),
        (KARI_MAIL,),
    ),  # RainLoop#75's leftover attributes
    ("link-11", f"Send it to '{KARI_MAIL}' please", "NO", (), (KARI_MAIL,)),  # roundcube#7526
    ("link-12", "Skriv til kari\\_nordmann@example.no", "NO", (), ("kari_nordmann@example.no",)),  # Markdown "\_"
    ("link-13", "x\\_b\\_and\\_c@example.no", "NO", (), ("x_b_and_c@example.no",)),  # redcarpet#558's sample
]

# ---------------------------------------------------------------------------------------------
# Chat exports. Sources: WhatsApp's .txt export formats ("[DD/MM/YYYY, HH:MM:SS] Sender: …" on iOS,
# "DD/MM/YYYY, HH:MM - Sender: …" on Android, "[12.3.2022 klo 14.08.18]" in a Finnish locale) and
# its bidi marks around numbers and attachments (linuswillner/whatsapp-export-inconsistencies;
# franklinbaldo/egregora whatsapp_unicode_analysis.md: U+200E before attachments, U+2068/U+2069 around
# mentions); apps that strip "[\u200E\u200F\u202A-\u202E\u2066-\u2069]" from exports.
# ---------------------------------------------------------------------------------------------
CHAT_EXPORTS: list[Row] = [
    ("chat-01", "[12.03.2024, 14:05:33] +47 912 34 567: Hei, ring meg", "NO", (KARI,), ()),  # iOS, unsaved sender
    ("chat-02", "12.03.2024, 14:05 - +47 912 34 567: Hei", "NO", (KARI,), ()),  # Android
    ("chat-03", "\u202a+47 912 34 567\u202c: Hei", "NO", (KARI,), ()),  # LRE/PDF around the sender
    ("chat-04", "\u200e+47 912 34 567 ble med via invitasjonslenken", "NO", (KARI,), ()),  # LRM before a join
    ("chat-05", "@\u2068+47 912 34 567\u2069 kan du ringe?", "NO", (KARI,), ()),  # FSI/PDI around a mention
    ("chat-06", "\u200f+47 912 34 567\u200f", "NO", (KARI,), ()),  # RLM, as an Arabic locale writes it
    ("chat-07", "\u202d+47 912 34 567\u202c", "NO", (KARI,), ()),  # LRO/PDF, as iOS copies a number
    (
        "chat-08",
        "[12.3.2024 klo 14.08.18] Kari Nordmann: soita 040 123 4567",
        "FI",
        ("+358401234567",),
        (),
    ),  # Finnish locale: the time is dotted
    ("chat-09", "12/03/2024, 14:05 - Kari: \u200eIMG-20240312-WA0035.jpg (file attached)", "NO", (), ()),  # media
    (
        "chat-10",
        "[12.03.24, 14:05:33] Kari Nordmann: \u200e<attached: 00000012-PHOTO-2024-03-12-14-05-33.jpg>",
        "NO",
        (),
        (),
    ),  # iOS attachment name
]

# ---------------------------------------------------------------------------------------------
# Meeting invitations. Sources: Microsoft Teams invitations ("+47 21 40 42 00,,123456789# Norway, Oslo",
# "Phone Conference ID: 123 456 789#"); Zoom invitations ("One tap mobile", "Meeting ID: 834 5678 9012",
# "Passcode"); Webex ("Meeting number (access code): 2740 123 4567"); Aveo Mira Connect's guide to
# dial info in invitations ("Audio (678) 653 7090,223344#,4342#", "Video 76110735@140.252.65.232",
# https://docs.aveosystems.com/kb/howto/integrate-office-365-calendars/adding-dial-info-to-invitations).
# ---------------------------------------------------------------------------------------------
MEETINGS: list[Row] = [
    (
        "meet-01",
        "Join by phone\n+47 21 40 42 00,,123456789#   Norway, Oslo",
        "NO",
        (SWITCHBOARD,),
        (),
    ),  # Teams dial-in with the conference ID after the pauses
    ("meet-02", "Phone Conference ID: 123 456 789#", "NO", (), ()),  # Teams conference ID
    ("meet-03", "Meeting ID: 834 5678 9012\nPasscode: 123456", "NO", (), ()),  # Zoom meeting ID
    ("meet-04", "Meeting ID: 912 3456 7890", "NO", (), ()),  # Zoom meeting ID starting like a mobile
    ("meet-05", "One tap mobile\n+4721502486,,83456789012# Norway", "NO", ("+4721502486",), ()),  # Zoom one tap
    ("meet-06", "Meeting number (access code): 2740 123 4567", "NO", (), ()),  # Webex
    ("meet-07", "Audio (678) 653 7090,223344#,4342#", "US", ("+16786537090",), ()),  # Mira Connect's audio line
    ("meet-08", "Video 76110735@140.252.65.232", "NO", (), ()),  # a room's video address on an IP
    (
        "meet-09",
        "Dial-in: +47 21 50 24 86  Meeting ID: 834 5678 9012  Passcode: 123456",
        "NO",
        ("+4721502486",),
        (),
    ),  # number and IDs on one line
]

# ---------------------------------------------------------------------------------------------
# SMS gateways. Sources: Twilio's incoming-message webhook, application/x-www-form-urlencoded
# ("From", "To", "Body"; https://www.twilio.com/docs/messaging/guides/webhook-request; "+" in a value
# is a space, "%2B" the plus, as Braze's Twilio template notes); Twilio's "whatsapp:" senders; SMPP
# delivery receipts ("id:0000000012345678 sub:001 dlvrd:001 submit date:1601010100 done
# date:1601010101 stat:DELIVRD err:000 text:none", https://help.nexmo.com/hc/en-us/articles/215468998);
# SMPP submit_sm logs (source_addr/destination_addr); Clickatell's HTTP API "to=" list.
# ---------------------------------------------------------------------------------------------
SMS_GATEWAYS: list[Row] = [
    (
        "sms-01",
        "ToCountry=NO&From=%2B4791234567&To=%2B4721404200&Body=Hei",
        "NO",
        (KARI, SWITCHBOARD),
        (),
    ),  # Twilio webhook
    (
        "sms-02",
        "Body=Ring+meg+p%C3%A5+912+34+567&From=%2B4798765432",
        "NO",
        (KARI, OLA),
        (),
    ),  # a number in a form-encoded body
    ("sms-03", "Body=Ring+meg+912+34+567", "NO", (KARI,), ()),  # ditto, after a plain word
    ("sms-04", "From=whatsapp%3A%2B4791234567&Body=Hei", "NO", (KARI,), ()),  # Twilio WhatsApp sender
    (
        "sms-05",
        "id:0000000012345678 sub:001 dlvrd:001 submit date:1601010100 done date:1601010101 "
        "stat:DELIVRD err:000 text:none",
        "NO",
        (),
        (),
    ),  # Nexmo's delivery receipt
    (
        "sms-06",
        "id:64567564356765435676 sub:001 dlvrd:001 submit date:190608165232 done date:190608165237 stat:DELIVRD",
        "NO",
        (),
        (),
    ),  # a receipt with seconds (smppcenter.com)
    (
        "sms-07",
        "source_addr_ton=1 source_addr_npi=1 source_addr=4791234567 destination_addr=4798765432",
        "NO",
        (KARI, OLA),
        (),
    ),  # submit_sm log
    (
        "sms-08",
        "https://platform.clickatell.com/messages/http/send?apiKey=abc&to=4791234567,4798765432&content=Hei",
        "NO",
        (KARI, OLA),
        (),
    ),  # a recipient list in a query
]

# ---------------------------------------------------------------------------------------------
# CSV exports. Sources: Webex's bulk CSV guide (E.164 only; spreadsheet editors strip the "+";
# commas inside a field escaped with "\", https://help.webex.com/no-no/article/nu0oia0); Excel's
# leading apostrophe that keeps a number text
# (https://www.computertutoring.co.uk/questions/excel/excel-phone-number-format-missing-zero.asp)
# and ="…" formulas; semicolon-separated CSV written by Excel in Nordic locales; tab-separated exports;
# Excel's scientific notation of a long number ("4.79123E+09": the digits are gone).
# ---------------------------------------------------------------------------------------------
CSV_EXPORTS: list[Row] = [
    (
        "csv-01",
        f'"Nordmann, Kari",{KARI_MAIL},+4791234567,2024-03-12',
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # quoted name with a comma
    ("csv-02", "Kari;Nordmann;91234567;kari@example.no;0150;Oslo", "NO", (KARI,), ("kari@example.no",)),  # semicolons
    ("csv-03", "Kari Nordmann,'+4791234567", "NO", (KARI,), ()),  # Excel's leading apostrophe
    ("csv-04", 'Kari Nordmann,="+4791234567"', "NO", (KARI,), ()),  # an ="…" formula
    ("csv-05", 'Kari Nordmann,"4791234567"', "NO", (KARI,), ()),  # the "+" stripped by a spreadsheet
    ("csv-06", f"91234567\t22123456\t{KARI_MAIL}", "NO", (KARI, OSLO), (KARI_MAIL,)),  # tab-separated
    ("csv-07", "Nordmann\\, Kari,+4791234567", "NO", (KARI,), ()),  # Webex's backslash-escaped comma
    ("csv-08", "Kari Nordmann,4.79123E+09", "NO", (), ()),  # scientific notation: no number left
    ("csv-09", "Kari,Nordmann,91234567,22123456", "NO", (KARI, OSLO), ()),  # two number columns
    ("csv-10", "912 34 567;22 12 34 56", "NO", (KARI, OSLO), ()),  # grouped, in adjacent columns
    (
        "csv-11",
        f'"Nordmann, Kari","+47 912 34 567","{KARI_MAIL}","Storgata 1, 0150 Oslo"',
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # every field quoted, a postal address beside
]

# ---------------------------------------------------------------------------------------------
# Serialisers' escapes. Sources: Go's encoding/json, which writes "<", ">", "&" as "\u003c",
# "\u003e", "\u0026" (encode.go, HTMLEscape; go.googlesource.com/go/+/d92bc7a5); JSON encoded twice
# by a pipeline; XML character references and CDATA sections (XML 1.0 §2.7, §4.1); SOAP payloads
# carrying escaped XML; RTF's "\'hh" escapes for 8-bit characters (java-libpst#84, wxWidgets#24718:
# "clich\'E9s"); Python's bytes repr in logs ("b'…\xc3\xb8…'").
# ---------------------------------------------------------------------------------------------
SERIALISERS: list[Row] = [
    (
        "ser-01",
        '{"from":"Kari Nordmann \\u003ckari.nordmann@example.no\\u003e"}',
        "NO",
        (),
        (KARI_MAIL,),
    ),  # Go's HTML-safe escapes
    (
        "ser-02",
        '{"url":"https://example.no/ring?tel=91234567\\u0026lang=no"}',
        "NO",
        (KARI,),
        (),
    ),  # ditto, "&" in a URL
    (
        "ser-03",
        '"{\\"phone\\":\\"+47 912 34 567\\",\\"email\\":\\"kari@example.no\\"}"',
        "NO",
        (KARI,),
        ("kari@example.no",),
    ),  # JSON inside a JSON string
    ("ser-04", "<phone>&#43;47 912 34 567</phone>", "NO", (KARI,), ()),  # XML character reference for "+"
    ("ser-05", "<body><![CDATA[Ring meg på 912 34 567]]></body>", "NO", (KARI,), ()),  # CDATA section
    ("ser-06", f"<from><![CDATA[{KARI_MAIL}]]></from>", "NO", (), (KARI_MAIL,)),  # ditto, an address
    ("ser-07", "&lt;msisdn&gt;4791234567&lt;/msisdn&gt;", "NO", (KARI,), ()),  # escaped XML in SOAP
    (
        "ser-08",
        "{\\rtf1\\ansi\\ansicpg1252 Hei\\par bj\\'f8rn.nordmann@example.no\\par Tlf 912 34 567\\par}",
        "NO",
        (KARI,),
        ("bjørn.nordmann@example.no",),
    ),  # RTF "\'f8" is "ø"
    ("ser-09", "{\\rtf1 Ring meg p\\'e5 912 34 567\\par}", "NO", (KARI,), ()),  # RTF escape before a number
    ("ser-10", "payload=b'Ring meg p\\xc3\\xa5 912 34 567'", "NO", (KARI,), ()),  # Python bytes repr
    ("ser-11", "payload=b'bj\\xc3\\xb8rn.nordmann@example.no'", "NO", (), ("bjørn.nordmann@example.no",)),  # ditto
    (
        "ser-12",
        'data-contact="{&quot;tel&quot;:&quot;+4791234567&quot;}"',
        "NO",
        (KARI,),
        (),
    ),  # JSON in an HTML attribute
]

# ---------------------------------------------------------------------------------------------
# Obfuscations. Sources: German pages' "name(at)domain(punkt)de" (webwork-magazin.net, "E-Mail-
# Spamschutz durch Entitäten"); "(a)" for "@" in German and Nordic signatures; Swedish/Danish
# "snabel-a"; 1&1's guide to [at]/(AT) spellings harvesters read
# (https://www.1and1.co.uk/digitalguide/e-mail/e-mail-security/protecting-your-e-mail-address-how-to-do-it/);
# addresses spelt out in call transcripts ("kari dot nordmann at gmail dot com"; Norwegian
# "punktum"/"krøllalfa") as speech-to-text writes them.
# ---------------------------------------------------------------------------------------------
OBFUSCATIONS: list[Row] = [
    ("obf-01", "kari.nordmann(a)example.no", "NO", (), (KARI_MAIL,)),  # "(a)"
    ("obf-02", "kari.nordmann (snabel-a) example.se", "SE", (), ("kari.nordmann@example.se",)),  # "snabel-a"
    ("obf-03", "kari(dot)nordmann(at)example(dot)no", "NO", (), (KARI_MAIL,)),  # "(dot)" inside the local part
    ("obf-04", "kari.nordmann(at)example(punkt)de", "DE", (), ("kari.nordmann@example.de",)),  # German "(punkt)"
    ("obf-05", "min adresse er kari dot nordmann at gmail dot com", "NO", (), ("kari.nordmann@gmail.com",)),  # STT
    (
        "obf-06",
        "adressen er kari punktum nordmann krøllalfa example punktum no",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # Norwegian STT
    ("obf-07", "kari.nordmann at gmail.com", "NO", (), ("kari.nordmann@gmail.com",)),  # "at" alone
    ("obf-08", "kari.nordmann@\u200bexample.no", "NO", (), (KARI_MAIL,)),  # a zero-width space against autolinking
    ("obf-09", "Ring meg på 9 1 2 3 4 5 6 7", "NO", (KARI,), ()),  # digit by digit
    (
        "obf-10",
        "Customer: My email is Kari dot Nordmann at Gmail dot com.",
        "NO",
        (),
        ("kari.nordmann@gmail.com",),
    ),  # a call transcript: speech-to-text capitalises the names it hears
]

# ---------------------------------------------------------------------------------------------
# E.123 notation. Sources: ITU-T E.123 as summarised at http://www.aa-asterisk.org.uk/index.php/E.123
# and http://piglix.com/piglix/E.123 ("(042) 123 4567", "+31 42 123 4567"; a slash marks alternative
# endings: "7222 1234/7890" means 7222 1234 and 7222 7890).
# ---------------------------------------------------------------------------------------------
E123: list[Row] = [
    ("e123-01", "Ring 912 34 567 / 568", "NO", (KARI, "+4791234568"), ()),  # an alternative ending
    ("e123-02", "Tlf. 22 12 34 56/57", "NO", (OSLO, "+4722123457"), ()),  # ditto, without spaces
    ("e123-03", "020 7222 1234/7890", "GB", ("+442072221234", "+442072227890"), ()),  # E.123's own example
    ("e123-04", "Telephone: +31 20 123 4567", "NO", ("+31201234567",), ()),  # E.123's international layout
    ("e123-05", "(020) 7946 0958", "GB", ("+442079460958",), ()),  # national notation, optional digits in brackets
    ("e123-06", "Ring meg på 912 34 567 eller 912 34 568", "NO", (KARI, "+4791234568"), ()),  # spelt out in full
    ("e123-07", "Ring 912 34 567 / 2 dager på rad", "NO", (KARI,), ()),  # a slash and a count: no ending
    ("e123-08", "Tlf 912 34 567/2024", "NO", (KARI,), ()),  # a year after the slash: no ending
]

# ---------------------------------------------------------------------------------------------
# National notation of the Nordic countries, in each country's own solution. Sources: libphonenumber's
# metadata formats (resources/PhoneNumberMetadata.xml: SE "070-123 45 67", "08-12 34 56"; DK "20 12 34 56";
# FI "040 123 4567", "09 1234 5678"); Finnish "puh." and Swedish "Tfn"/"Växel" labels in signatures.
# ---------------------------------------------------------------------------------------------
NORDIC_NATIONAL: list[Row] = [
    ("nord-01", "Tfn: 070-123 45 67", "SE", ("+46701234567",), ()),  # SE mobile
    ("nord-02", "Växel: 08-12 34 56", "SE", ("+468123456",), ()),  # SE Stockholm switchboard
    ("nord-03", "+46 (0)8-12 34 56", "SE", ("+468123456",), ()),  # SE with "(0)"
    ("nord-04", "Mobil 0701234567", "SE", ("+46701234567",), ()),  # SE undivided
    ("nord-05", "(08) 123 456 78", "SE", ("+46812345678",), ()),  # SE area code in brackets
    ("nord-06", "Tlf. 20 12 34 56", "DK", ("+4520123456",), ()),  # DK
    ("nord-07", "+45 32 12 34 56", "DK", ("+4532123456",), ()),  # DK international
    ("nord-08", "Mobil: 2012 3456", "DK", ("+4520123456",), ()),  # DK 4-4
    ("nord-09", "puh. 040 123 4567", "FI", ("+358401234567",), ()),  # FI with "puh."
    ("nord-10", "puh.040 123 4567", "FI", ("+358401234567",), ()),  # FI label glued with its dot
    ("nord-11", "GSM 040 1234567", "FI", ("+358401234567",), ()),  # FI "GSM"
    ("nord-12", "+358 (0)40 123 4567", "FI", ("+358401234567",), ()),  # FI with "(0)"
    ("nord-13", "Puh. (09) 1234 5678", "FI", ("+358912345678",), ()),  # FI Helsinki, area code in brackets
    ("nord-14", "Grønt nummer 800 12 345", "NO", ("+4780012345",), ()),  # NO freephone
    ("nord-15", "+47 40 61 23 45", "NO", ("+4740612345",), ()),  # NO mobile in pairs
]

# ---------------------------------------------------------------------------------------------
# National notation elsewhere in Europe and in North America, in each country's own solution.
# Sources: DIN 5008 for German numbers (https://din-5008-richtlinien.de/startseite/telefonnummern
# writes 05444 347687-350, +49 30 3432622-113 and 0180 2 123456;
# https://www.vorwahl-nummern.de/fundgrube/schreibweise_nummern_zahlen.php writes 0511 12345-67,
# (05 11) 1 23 45 67, 05 11/1 23 45-67, 0 511.1 234 567 and 030 22 57 123;
# https://www.wp-wissen.de/telefonnummer/ writes +49 89 123466–0); Ofcom's drama numbers (020 7946 0xxx);
# Polish "tel. kom."; NANP forms in Presidio's tests (presidio-analyzer/tests/test_phone_recognizer.py:
# "(415) 555-0132", "+1 415 555 0132").
# ---------------------------------------------------------------------------------------------
EUROPE_NANP_NATIONAL: list[Row] = [
    ("eu-01", "Tel. 0511 12345-67", "DE", ("+495111234567",), ()),  # DIN 5008 direct dial after a hyphen
    ("eu-02", "+49 30 3432622-113", "DE", ("+49303432622113",), ()),  # ditto, international
    ("eu-03", "Service: 0180 2 123456", "DE", ("+491802123456",), ()),  # DIN 5008 service number
    ("eu-04", "(05 11) 1 23 45 67", "DE", ("+495111234567",), ()),  # the old grouping in pairs
    ("eu-05", "05 11/1 23 45-67", "DE", ("+495111234567",), ()),  # ditto, with a slash
    ("eu-06", "0 511.1 234 567", "DE", ("+495111234567",), ()),  # grouped for typography
    ("eu-07", "030 22 57 123", "DE", ("+49302257123",), ()),  # grouped for reading
    ("eu-08", "Zentrale +49 89 123466\u20130", "DE", ("+49891234660",), ()),  # en dash before the extension
    ("eu-09", "Tel: 020 7946 0958", "GB", ("+442079460958",), ()),  # GB London
    ("eu-10", "Mob: 07400 123456", "GB", ("+447400123456",), ()),  # GB mobile
    ("eu-11", "+44 (0) 20 7946 0958", "GB", ("+442079460958",), ()),  # GB "(0)" with spaces
    ("eu-12", "tel. kom. 512 345 678", "PL", ("+48512345678",), ()),  # PL mobile
    ("eu-13", "tel.kom.512 345 678", "PL", ("+48512345678",), ()),  # PL labels glued with dots
    ("eu-14", "tel. +48 12 345 67 89", "PL", ("+48123456789",), ()),  # PL Kraków
    ("eu-15", "(+48) 512-345-678", "PL", ("+48512345678",), ()),  # PL bracketed code
    ("eu-16", "Ph: (201) 555-0123", "US", ("+12015550123",), ()),  # NANP
    ("eu-17", "201.555.0123", "US", ("+12015550123",), ()),  # NANP dotted
    ("eu-18", "+1 (201) 555-0123", "US", ("+12015550123",), ()),  # NANP international with brackets
    ("eu-19", "1 (201) 555-0123", "US", ("+12015550123",), ()),  # NANP with the trunk 1
]

# ---------------------------------------------------------------------------------------------
# RFC 5322 addresses. Sources: RFC 5322 §3.4 (name-addr, group syntax "Kunder: a, b;",
# "undisclosed-recipients:;"), §3.4.1 (a quoted local part is the same address when it needs no
# quoting), §3.2.2 (comments in CFWS: "john.smith(comment)@example.com" equals john.smith@example.com),
# §4.4 (obsolete route "<@relay:addr>"); RFC 822's "addr (Full Name)" still written by old clients.
# ---------------------------------------------------------------------------------------------
RFC5322: list[Row] = [
    ("rfc-01", f'From: "Nordmann, Kari" <{KARI_MAIL}>', "NO", (), (KARI_MAIL,)),  # display name with a comma
    (
        "rfc-02",
        f"To: Nordmann, Kari <{KARI_MAIL}>; Hansen, Ola <{OLA_MAIL}>",
        "NO",
        (),
        (KARI_MAIL, OLA_MAIL),
    ),  # Outlook's unquoted "Last, First" list
    ("rfc-03", f"From: {KARI_MAIL} (Kari Nordmann)", "NO", (), (KARI_MAIL,)),  # RFC 822 style
    ("rfc-04", f"To: Kunder: {KARI_MAIL}, {OLA_MAIL};", "NO", (), (KARI_MAIL, OLA_MAIL)),  # group syntax
    ("rfc-05", "To: undisclosed-recipients:;", "NO", (), ()),  # an empty group
    ("rfc-06", '"kari.nordmann"@example.no', "NO", (), (KARI_MAIL,)),  # quoted local part that needs no quotes
    ("rfc-07", "kari.nordmann(kundeservice)@example.no", "NO", (), (KARI_MAIL,)),  # comment before the "@"
    ("rfc-08", "(jobb)kari.nordmann@example.no", "NO", (), (KARI_MAIL,)),  # comment before the local part
    ("rfc-09", f"<@relay.example.net:{KARI_MAIL}>", "NO", (), (KARI_MAIL,)),  # obsolete source route
    (
        "rfc-10",
        f'Reply-To: "Kari \\"K\\" Nordmann" <{KARI_MAIL}>',
        "NO",
        (),
        (KARI_MAIL,),
    ),  # escaped quotes in the name
    (
        "rfc-11",
        f'"Nordmann, Kari (Kundeservice)" <{KARI_MAIL}>',
        "NO",
        (),
        (KARI_MAIL,),
    ),  # brackets inside the quoted name
]

# ---------------------------------------------------------------------------------------------
# Envelope addresses rewritten by mail systems, as stored in Return-Path and Received headers.
# Sources: BATV ("prvs=<tag>=user@example.com", https://www.pscs.co.uk/manual/message_authentication_batv.html);
# SRS from mailing-list archives (lore.kernel.org mbox files, found by searching for SRS0=: a
# Return-Path of SRS0=SgWF=Q5=kvack.org=owner-linux-mm@kernel.org, and an envelope-from of SRS around
# BATV, SRS0=1v/+=PN=epam.com=prvs=0932af52eb=oleksandr_andrushchenko@srs-us1.protection.inumbo.net);
# Mailman's VERP bounce addresses (qemu-devel-bounces+lists+qemu-devel=lfdr.de@nongnu.org, ditto).
# The person's address is the one a reader finds; a fragment cut at "=" is nobody's address.
# ---------------------------------------------------------------------------------------------
ENVELOPES: list[Row] = [
    ("env-01", f"Return-Path: <prvs=0793d2f4a1={KARI_MAIL}>", "NO", (), (KARI_MAIL,)),  # BATV
    ("env-02", f"Return-Path: <prvs=0067612345={KARI_MAIL}>", "NO", (), (KARI_MAIL,)),  # BATV with an all-digit tag
    (
        "env-03",
        "Return-Path: <SRS0=x7Tq=LK=example.no=kari.nordmann@fwd.example.com>",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # SRS
    (
        "env-04",
        "Return-Path: <SRS0=SgWF=Q5=kvack.org=owner-linux-mm@kernel.org>",
        "NO",
        (),
        ("owner-linux-mm@kvack.org",),
    ),  # SRS as archived
    (
        "env-05",
        "(envelope-from <SRS0=1v/+=PN=epam.com=prvs=0932af52eb=oleksandr_andrushchenko@srs-us1.protection.inumbo.net>)",
        "NO",
        (),
        ("oleksandr_andrushchenko@epam.com",),
    ),  # SRS around BATV, as archived
    (
        "env-06",
        "Return-Path: <kundeservice-bounces+kari.nordmann=example.no@lists.example.org>",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # Mailman VERP
    (
        "env-07",
        "Return-Path: <qemu-devel-bounces+lists+qemu-devel=lfdr.de@nongnu.org>",
        "NO",
        (),
        ("lists+qemu-devel@lfdr.de",),
    ),  # VERP as archived
    ("env-08", f"Return-Path: <{KARI_MAIL}>", "NO", (), (KARI_MAIL,)),  # not rewritten
    (
        "env-09",
        "Return-Path: <SRS1=Jq2b=fwd1.example.com==x7Tq=LK=example.no=kari.nordmann@fwd2.example.org>",
        "NO",
        (),
        (KARI_MAIL,),
    ),  # SRS1: forwarded twice (libsrs2's paper, https://www.libsrs2.org/srs/srs.pdf, section 3)
]

# ---------------------------------------------------------------------------------------------
# Internationalised addresses. Sources: Arnt Gulbrandsen's EAI test messages ("jøran@blåbærsyltetøy",
# http://rant.gulbrandsen.priv.no/aox/eai-test-messages); UASG 004 "Use Cases for UA Readiness
# Evaluation" (Cyrillic, Devanagari, Chinese, Greek mailboxes; https://uasg.tech/information/developers/);
# UTS #46 §2.3 (U+3002, U+FF0E, U+FF61 are label separators).
# ---------------------------------------------------------------------------------------------
IDN: list[Row] = [
    ("idn-01", "jøran@blåbærsyltetøy.no", "NO", (), ("jøran@blåbærsyltetøy.no",)),  # Norwegian EAI
    ("idn-02", "Skriv til почта@пример.рф", "NO", (), ("почта@пример.рф",)),  # Cyrillic
    ("idn-03", "अजय@डाटा.भारत", "NO", (), ("अजय@डाटा.भारत",)),  # Devanagari, with vowel signs
    ("idn-04", "用户@例子.广告", "NO", (), ("用户@例子.广告",)),  # Chinese
    ("idn-05", "δοκιμή@παράδειγμα.δοκιμή", "NO", (), ("δοκιμή@παράδειγμα.δοκιμή",)),  # Greek
    ("idn-06", "kari.nordmann@example\u3002no", "NO", (), (KARI_MAIL,)),  # ideographic full stop
    ("idn-07", "kari.nordmann@example\uff61no", "NO", (), (KARI_MAIL,)),  # halfwidth ideographic full stop
    ("idn-08", "straße@example.de", "NO", (), ("straße@example.de",)),  # sharp s
]

# ---------------------------------------------------------------------------------------------
# Help-desk and telephony notifications. Sources: Zendesk Talk voicemail/call tickets ("Call from:",
# "Call to:", "Time of call:", "Length of phone call:") and its reply delimiter "##- Please type your
# reply above this line -##"; Zammad's and Znuny's ticket hook ("[Ticket#12345]",
# zammad-admin-documentation settings/ticket.rst; Znuny Kernel/Config/Files/XML/Ticket.xml) and
# OTRS's date-based numbers (OTRS/otrs Kernel/System/Ticket/Number/DateChecksum.pm); Outlook's and
# Gmail's reply headers in Norwegian; chatwoot/chatwoot#10616 (quoted replies with "> " markers).
# ---------------------------------------------------------------------------------------------
HELPDESK: list[Row] = [
    (
        "desk-01",
        "Call Details:\n\nCall from: +47 912 34 567\nCall to: +47 21 40 42 00\n"
        "Time of call: 2024-03-12 14:05:33 UTC\nLength of phone call: 3 minutes 12 seconds",
        "NO",
        (KARI, SWITCHBOARD),
        (),
    ),  # Zendesk Talk
    (
        "desk-02",
        "##- Please type your reply above this line -##\n\nKari Nordmann (Zendesk)\n\nMar 12, 2024, 14:05 GMT+1",
        "NO",
        (),
        (),
    ),  # Zendesk reply header
    ("desk-03", "Subject: Some Subject [Ticket#12345]", "NO", (), ()),  # Zammad's hook
    ("desk-04", "[Ticket#2024031210000017] SV: Ring meg", "NO", (), ()),  # OTRS date-based number
    (
        "desk-05",
        f"Fra: Kari Nordmann <{KARI_MAIL}>\nSendt: tirsdag 12. mars 2024 14:05\n"
        "Til: Kundeservice <kundeservice@firma.no>\nEmne: SV: Sak 12345",
        "NO",
        (),
        (KARI_MAIL, "kundeservice@firma.no"),
    ),  # Outlook's reply header
    (
        "desk-06",
        f"Den tir. 12. mar. 2024 kl. 14:05 skrev Kari Nordmann <{KARI_MAIL}>:\n> Ring meg på 912 34 567",
        "NO",
        (KARI,),
        (KARI_MAIL,),
    ),  # Gmail's reply header and quote
    ("desk-07", "Text message from: +47 912 34 567", "NO", (KARI,), ()),  # Zendesk SMS ticket
    ("desk-08", "You missed a call from +47 912 34 567 (00:12)", "NO", (KARI,), ()),  # Teams missed-call mail
    ("desk-09", "Anrop fra 912 34 567 kl. 14:05, varighet 00:03:12", "NO", (KARI,), ()),  # a caller log line
    ("desk-10", f"Requester: {KARI_MAIL} (Kari Nordmann)", "NO", (), (KARI_MAIL,)),  # Freshdesk
]

# ---------------------------------------------------------------------------------------------
# Vanity numbers. Sources: libphonenumber's alpha mapping (PhoneNumberUtil.ALPHA_MAPPINGS,
# convertAlphaCharactersInNumber: "1-800-FLOWERS" -> "1-800-3569377"); vanity numbers in public code
# ("Samples are: 1-800-TERMINIX, 1-800-FLOWERS", found by find_string "1-800-FLOWERS"; a SIP test
# header "<tel:+1-800-FLOWERS>").
# ---------------------------------------------------------------------------------------------
VANITY: list[Row] = [
    ("van-01", "Call 1-800-FLOWERS today", "US", ("+18003569377",), ()),  # the classic
    ("van-02", "1 (800) GOT-JUNK", "US", ("+18004685865",), ()),  # brackets and a dash inside the word
    ("van-03", "Ring +1 800 FLOWERS", "NO", ("+18003569377",), ()),  # international, in a NO solution
    ("van-04", "<tel:+1-800-FLOWERS>", "NO", ("+18003569377",), ()),  # a tel: URI with letters
]

# ---------------------------------------------------------------------------------------------
# Distractors: identifiers of things, not people. Sources: Presidio's phone tests
# (presidio-analyzer/tests/test_us_phone_recognizer.py: "my phone number is: 110bcd25-a55d-453a-8046-1297901ea002");
# RFC 5322 Appendix A.1.1 ("Message-ID: <1234@local.machine.example>"); RFC 3261 §8.1.1.4 Call-ID
# ("a84b4c76e66710@pc33.atlanta.com"); git send-email Message-IDs in In-Reply-To (lore.kernel.org);
# Exchange's legacyExchangeDN; order, invoice and case numbers labelled as such.
# ---------------------------------------------------------------------------------------------
DISTRACTOR_IDS: list[Row] = [
    ("dist-id-01", "my phone number is: 110bcd25-a55d-453a-8046-1297901ea002", "NO", (), ()),  # Presidio's GUID
    ("dist-id-02", "Message-ID: <1234@local.machine.example>", "NO", (), ()),  # RFC 5322's Message-ID
    ("dist-id-03", "In-Reply-To: <20190222174337.26390-3-aryabinin@virtuozzo.com>", "NO", (), ()),  # git send-email
    ("dist-id-04", "Call-ID: a84b4c76e66710@pc33.atlanta.example.com", "NO", (), ()),  # RFC 3261's Call-ID
    (
        "dist-id-05",
        "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP (FYDIBOHF23SPDLT)/CN=RECIPIENTS"
        "/CN=3F2504E04F8911D39A0C0305E82C3301-KARI.NORDMA",
        "NO",
        (),
        (),
    ),  # legacyExchangeDN
    ("dist-id-06", "Ordrenummer: 4791234567", "NO", (), ()),  # an order number that starts with 47
    ("dist-id-07", "Fakturanr. 91234567", "NO", (), ()),  # an invoice number shaped like a mobile
    ("dist-id-08", "Sak CAS-01234-A1B2C3 er opprettet", "NO", (), ()),  # Dynamics 365 case number
    ("dist-id-09", "Sending RR123456785NO er levert", "NO", (), ()),  # UPU S10 tracking number
    ("dist-id-10", "SSCC 00370712345678901234", "NO", (), ()),  # GS1 shipping container code
    ("dist-id-11", "UPS 1Z999AA10123456784", "NO", (), ()),  # UPS tracking number
]

# ---------------------------------------------------------------------------------------------
# Distractors: times and dates as machines write them. Sources: Python's datetime.isoformat() with
# microseconds ("2024-03-12T14:05:33.912345+01:00"); Unix epoch seconds in JSON; Microsoft's
# "\/Date(1710248733123+0100)\/" JSON dates; RFC 5322 dates with a zone ("+0100"); Windows FILETIME;
# Gmail's X-Received header (lore.kernel.org mbox: "id d46mr4223092qtb.319.1550862096673");
# log4j/logback timestamps with a comma ("14:05:33,912").
# ---------------------------------------------------------------------------------------------
DISTRACTOR_TIMES: list[Row] = [
    ("dist-time-01", "created 2024-03-12T14:05:33.912345+01:00", "NO", (), ()),  # isoformat with microseconds
    ("dist-time-02", "ts=2024-03-12T14:05:33.912345Z", "NO", (), ()),  # ditto, UTC
    ("dist-time-03", "14:05:33.912345 INFO call ended", "NO", (), ()),  # a log time with microseconds
    ("dist-time-04", '"created_at": 1710248733', "NO", (), ()),  # Unix epoch seconds
    ("dist-time-05", '"Date":"\\/Date(1710248733123+0100)\\/"', "NO", (), ()),  # Microsoft JSON date
    ("dist-time-06", "Date: Tue, 12 Mar 2024 14:05:33 +0100", "NO", (), ()),  # RFC 5322 date
    ("dist-time-07", "FILETIME 133547619330000000", "NO", (), ()),  # Windows FILETIME
    (
        "dist-time-08",
        "X-Received: by 2002:ac8:33f1:: with SMTP id d46mr4223092qtb.319.1550862096673;",
        "NO",
        (),
        (),
    ),  # Gmail's header
    ("dist-time-09", "2024-03-12 14:05:33,912 WARN retry", "NO", (), ()),  # logback time
    ("dist-time-10", "Mar 12, 2024, 14:05 GMT+1", "NO", (), ()),  # Zendesk's date
]

# ---------------------------------------------------------------------------------------------
# Distractors: network, software and national codes. Sources: IPv6 (RFC 5952 examples), MAC
# addresses, host:port; a Chrome user agent; Windows build numbers; national ID formats (Swedish
# personnummer "YYYYMMDD-NNNN", Danish CPR "DDMMYY-NNNN", Norwegian fødselsnummer, 11 digits);
# Elhub's 18-digit metering point IDs; ISBN-13; postal codes written with country prefixes
# ("SE-111 22", "DK-2100", "FI-00100", "D-10115", "00-950 Warszawa"); amounts in US and German style.
# ---------------------------------------------------------------------------------------------
DISTRACTOR_CODES: list[Row] = [
    ("dist-code-01", "fra 2001:db8:85a3::8a2e:370:7334", "NO", (), ()),  # IPv6
    ("dist-code-02", "MAC 00:1A:2B:3C:4D:5E", "NO", (), ()),  # MAC address
    ("dist-code-03", "server 10.12.34.56:8080 svarte ikke", "NO", (), ()),  # host:port
    (
        "dist-code-04",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.6261.112 Safari/537.36",
        "NO",
        (),
        (),
    ),  # user agent in a chat's metadata
    ("dist-code-05", "Version 10.0.19045.4170", "NO", (), ()),  # Windows build
    ("dist-code-06", "personnummer 19750312-1234", "SE", (), ()),  # SE personal number
    ("dist-code-07", "CPR 120375-1234", "DK", (), ()),  # DK personal number
    ("dist-code-08", "fnr 12037512345", "NO", (), ()),  # NO personal number
    ("dist-code-09", "Målepunkt-ID 707057500012345678", "NO", (), ()),  # Elhub metering point
    ("dist-code-10", "ISBN 978-82-02-12345-6", "NO", (), ()),  # ISBN
    ("dist-code-11", "SE-111 22 Stockholm", "SE", (), ()),  # SE postal code
    ("dist-code-12", "DK-2100 København Ø", "DK", (), ()),  # DK postal code
    ("dist-code-13", "FI-00100 Helsinki", "FI", (), ()),  # FI postal code
    ("dist-code-14", "D-10115 Berlin", "DE", (), ()),  # DE postal code
    ("dist-code-15", "00-950 Warszawa", "PL", (), ()),  # PL postal code
    ("dist-code-16", "Total $912,345,678.00", "NO", (), ()),  # US amount
    ("dist-code-17", "Summe 912.345.678,00 €", "DE", (), ()),  # German amount
    ("dist-code-18", "Org.nr SE556012345601", "SE", (), ()),  # SE VAT number
]

CLASSES: dict[str, list[Row]] = {
    "extension": EXTENSIONS,
    "vcard": VCARD,
    "icalendar": ICALENDAR,
    "uri-scheme": URI_SCHEMES,
    "link-rewriting": LINKS,
    "chat-export": CHAT_EXPORTS,
    "meeting-invite": MEETINGS,
    "sms-gateway": SMS_GATEWAYS,
    "csv-export": CSV_EXPORTS,
    "serialiser": SERIALISERS,
    "obfuscation": OBFUSCATIONS,
    "e123": E123,
    "nordic-national": NORDIC_NATIONAL,
    "europe-nanp-national": EUROPE_NANP_NATIONAL,
    "rfc5322": RFC5322,
    "envelope-rewriting": ENVELOPES,
    "idn-eai": IDN,
    "helpdesk": HELPDESK,
    "vanity": VANITY,
    "distractor-ids": DISTRACTOR_IDS,
    "distractor-times": DISTRACTOR_TIMES,
    "distractor-codes": DISTRACTOR_CODES,
}

# A distractor whose characters could be mistaken for somebody's identifier: that identifier, which a
# request for must replace nothing there.
LURES: dict[str, str] = {
    "ical-08": "+48123456789",
    "meet-01": "+48123456789",
    "meet-02": "+48123456789",
    "meet-03": "+4756789012",
    "meet-04": "+4791234567",
    "meet-08": "+4776110735",
    "dist-id-06": KARI,
    "dist-id-07": KARI,
    "dist-time-01": "+4733912345",
    "dist-time-02": "+4733912345",
    "dist-time-03": "+4733912345",
    "env-02": "+67612345",
    "csv-08": KARI,
    "dist-code-16": "+48912345678",
}


@dataclass(frozen=True)
class Wild:
    """One row of the table, with its class."""

    case_id: str
    form_class: str
    text: str
    country: str
    phones: frozenset[str]
    emails: frozenset[str]

    @property
    def identifiers(self) -> tuple[str, ...]:
        return (*sorted(self.phones), *sorted(self.emails))


CASES: tuple[Wild, ...] = tuple(
    Wild(case_id, form_class, text, country, frozenset(phones), frozenset(emails))
    for form_class, rows in CLASSES.items()
    for case_id, text, country, phones, emails in rows
)
BY_ID: dict[str, Wild] = {case.case_id: case for case in CASES}
