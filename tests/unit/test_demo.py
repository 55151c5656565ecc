"""The demo data generator: deterministic, realistic enough, API-shaped."""

from __future__ import annotations

import io
import json
import re
import wave
from array import array
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from archivist.archive.schemas import InteractionIn
from archivist.demo.audio import make_wav
from archivist.demo.generator import EVENT_TYPES, QUEUES, generate

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2025, 3, 3, tzinfo=OSLO)
N = 2000

NO_MOBILE = re.compile(r"^\+47[49]\d{7}$")
NO_LANDLINE = re.compile(r"^\+47[2-7]\d{7}$")
FOREIGN = re.compile(r"^\+(46|45|49|44)\d{8,12}$")
WITHHELD = {"anonymous", "unknown"}


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return list(generate(N, 42, START))


def at(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, f"naive timestamp {text!r}"
    return parsed


def calls(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["channel"] == "call"]


# ---------------------------------------------------------------- determinism


def test_same_seed_and_start_give_identical_output() -> None:
    assert list(generate(300, 7, START)) == list(generate(300, 7, START))


def test_different_seed_gives_different_output() -> None:
    assert list(generate(300, 7, START)) != list(generate(300, 8, START))


def test_generate_yields_exactly_n_items_and_zero_is_fine() -> None:
    assert len(list(generate(123, 1, START))) == 123
    assert list(generate(0, 1, START)) == []


def test_negative_n_and_empty_window_are_rejected() -> None:
    with pytest.raises(ValueError, match="n must be"):
        generate(-1, 1, START)
    with pytest.raises(ValueError, match="days must be"):
        generate(10, 1, START, days=0)


# ---------------------------------------------------------------------- shape


def test_output_is_json_serialisable(items: list[dict[str, Any]]) -> None:
    assert json.loads(json.dumps(items)) == items


def test_external_ids_are_unique_and_name_seed_and_index(items: list[dict[str, Any]]) -> None:
    assert [i["external_id"] for i in items] == [f"demo-42-{k}" for k in range(N)]


def test_every_item_has_the_ingestion_api_shape(items: list[dict[str, Any]]) -> None:
    common = {
        "external_id",
        "channel",
        "direction",
        "started_at",
        "queue",
        "agent",
        "customer",
        "service_number",
        "subject",
        "variables",
        "events",
        "recording_seconds",
    }
    for item in items:
        ch = item["channel"]
        assert ch in {"call", "chat", "email"}
        optional = {"ended_at"} | ({"messages"} if ch == "chat" else set()) | ({"body"} if ch == "email" else set())
        assert common <= item.keys() <= common | optional, item["external_id"]
        assert (ch == "chat") == ("messages" in item)
        assert (ch == "email") == ("body" in item)
        assert item["direction"] in {"inbound", "outbound"}
        assert item["queue"] in QUEUES
        assert item["agent"] is None or isinstance(item["agent"], str)
        assert set(item["customer"]) == {"phone", "email", "name"}
        assert all(v is None or isinstance(v, str) for v in item["customer"].values())
        assert item["service_number"] is None or isinstance(item["service_number"], str)
        assert isinstance(item["variables"], dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in item["variables"].items())
        at(item["started_at"])
        for event in item["events"]:
            assert set(event) == {"at", "type", "queue", "agent", "duration_s"}
            assert event["type"] in EVENT_TYPES
            assert event["queue"] in QUEUES
            assert event["agent"] is None or isinstance(event["agent"], str)
            d = event["duration_s"]
            assert d is None or (isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0)
        if ch == "email":
            assert isinstance(item["subject"], str)
            assert item["subject"]
            assert isinstance(item["body"], str)
            assert "\n" in item["body"]
            assert item["customer"]["email"]
        else:
            assert item["subject"] is None
        if ch == "call":
            rec = item["recording_seconds"]
            assert rec is None or (isinstance(rec, float) and 2.0 <= rec <= 6.0)
            assert item["customer"]["phone"]
        else:
            assert item["recording_seconds"] is None
        if ch == "chat":
            assert item["direction"] == "inbound"
            assert item["customer"]["email"]
            for m in item["messages"]:
                assert set(m) == {"at", "from", "text"}
                assert m["from"] in {"customer", "agent", "system"}
                assert isinstance(m["text"], str)
                assert m["text"]


def test_every_item_validates_against_the_ingestion_schema(items: list[dict[str, Any]]) -> None:
    for item in items:
        body = dict(item)
        body.pop("recording_seconds")  # the demo loader's, not the API's
        parsed = InteractionIn.model_validate(body)
        assert parsed.external_id == item["external_id"]


def test_channel_mix_is_about_60_25_15(items: list[dict[str, Any]]) -> None:
    share = {ch: c / N for ch, c in Counter(i["channel"] for i in items).items()}
    assert share["call"] == pytest.approx(0.60, abs=0.04)
    assert share["chat"] == pytest.approx(0.25, abs=0.04)
    assert share["email"] == pytest.approx(0.15, abs=0.04)


def test_only_answered_calls_carry_a_recording_length(items: list[dict[str, Any]]) -> None:
    for item in calls(items):
        if item["recording_seconds"] is not None:
            assert "answered" in {e["type"] for e in item["events"]}
    assert any(i["recording_seconds"] for i in calls(items))


# ----------------------------------------------------------------------- time


def test_ended_at_is_after_started_at(items: list[dict[str, Any]]) -> None:
    with_end = [i for i in items if "ended_at" in i]
    assert len(with_end) > 0.9 * N  # only emails still being worked on lack one
    assert all(i["channel"] == "email" for i in items if "ended_at" not in i)
    for item in with_end:
        assert at(item["ended_at"]) > at(item["started_at"]), item["external_id"]


def test_events_are_in_time_order_from_offered_to_ended(items: list[dict[str, Any]]) -> None:
    for item in items:
        events = item["events"]
        assert 3 <= len(events) <= 6, item["external_id"]
        times = [at(e["at"]) for e in events]
        assert times == sorted(times), item["external_id"]
        assert events[0]["type"] == "offered"
        assert times[0] == at(item["started_at"])
        if "ended_at" in item:
            assert events[-1]["type"] == "ended"
            assert times[-1] == at(item["ended_at"])
        types = {e["type"] for e in events}
        assert not {"answered", "abandoned"} <= types, "answered and abandoned at once"


def test_answered_events_name_an_agent(items: list[dict[str, Any]]) -> None:
    for item in items:
        for e in item["events"]:
            if e["type"] == "answered":
                assert e["agent"]
        if any(e["type"] == "answered" for e in item["events"]):
            assert item["agent"]


def test_chat_messages_are_in_time_order_within_the_chat(items: list[dict[str, Any]]) -> None:
    chats = [i for i in items if i["channel"] == "chat"]
    for chat in chats:
        msgs = chat["messages"]
        assert 3 <= len(msgs) <= 12, chat["external_id"]
        times = [at(m["at"]) for m in msgs]
        assert times == sorted(times)
        assert times[0] >= at(chat["started_at"])
        assert times[-1] <= at(chat["ended_at"])
        assert msgs[0] == {"at": chat["started_at"], "from": "system", "text": "Chat started"}
        assert any(m["from"] == "customer" for m in msgs)
    answered = [c for c in chats if c["agent"]]
    assert answered
    assert all(any(m["text"] == f"Agent {c['agent']} joined" for m in c["messages"]) for c in answered)


def test_timestamps_carry_the_oslo_offset_for_that_instant(items: list[dict[str, Any]]) -> None:
    stamps = [i["started_at"] for i in items] + [e["at"] for i in items for e in i["events"]]
    for s in stamps:
        parsed = at(s)
        assert parsed.utcoffset() == parsed.astimezone(OSLO).utcoffset(), s
        assert s == parsed.astimezone(OSLO).isoformat()
    # the window crosses the spring DST change (30 March 2025)
    assert {s[-6:] for s in stamps} == {"+01:00", "+02:00"}


def test_interactions_fall_in_the_window_oldest_first(items: list[dict[str, Any]]) -> None:
    starts = [at(i["started_at"]) for i in items]
    assert starts == sorted(starts)
    assert starts[0] >= START
    assert starts[-1] < START + timedelta(days=60)
    assert starts[-1] - starts[0] > timedelta(days=50)  # spread, not bunched


def test_naive_start_is_read_as_oslo_time() -> None:
    naive = list(generate(50, 3, datetime(2025, 3, 3)))
    aware = list(generate(50, 3, START))
    assert naive == aware


def test_window_across_autumn_dst_change_is_well_formed() -> None:
    start = datetime(2025, 10, 25, 0, 0, tzinfo=UTC)
    got = list(generate(500, 5, start, days=2))
    starts = [at(i["started_at"]) for i in got]
    assert starts == sorted(starts)
    assert start <= starts[0]
    assert starts[-1] < start + timedelta(days=2)
    assert {i["started_at"][-6:] for i in got} == {"+01:00", "+02:00"}


def test_time_of_day_is_weighted_to_office_hours(items: list[dict[str, Any]]) -> None:
    local = [at(i["started_at"]).astimezone(OSLO) for i in items]
    office = sum(1 for t in local if t.weekday() < 5 and 8 <= t.hour < 17)
    night = sum(1 for t in local if t.hour < 6)
    assert office > 0.75 * N
    assert night < 0.01 * N


# --------------------------------------------------------------------- people


def test_call_numbers_are_e164_or_withheld(items: list[dict[str, Any]]) -> None:
    for item in calls(items):
        phone = item["customer"]["phone"]
        assert phone in WITHHELD or NO_MOBILE.match(phone) or NO_LANDLINE.match(phone) or FOREIGN.match(phone), phone


def test_most_callers_are_norwegian_mobiles(items: list[dict[str, Any]]) -> None:
    phones = [i["customer"]["phone"] for i in calls(items)]
    assert sum(1 for p in phones if NO_MOBILE.match(p)) > 0.6 * len(phones)
    assert any(NO_LANDLINE.match(p) and not NO_MOBILE.match(p) for p in phones)


def test_some_callers_are_anonymous_or_unknown(items: list[dict[str, Any]]) -> None:
    inbound = [i for i in calls(items) if i["direction"] == "inbound"]
    phones = Counter(i["customer"]["phone"] for i in inbound)
    assert 0.01 * len(inbound) < phones["anonymous"] < 0.06 * len(inbound)
    assert phones["unknown"] > 0
    for item in inbound:
        if item["customer"]["phone"] in WITHHELD:
            assert item["customer"]["name"] is None or "customer_no" in item["variables"]


def test_some_call_numbers_are_foreign(items: list[dict[str, Any]]) -> None:
    foreign = {i["customer"]["phone"] for i in calls(items) if FOREIGN.match(i["customer"]["phone"])}
    assert len(foreign) >= 3
    assert len({p[:3] for p in foreign}) >= 2  # more than one country


def test_a_repeat_caller_has_at_least_five_calls(items: list[dict[str, Any]]) -> None:
    per_number = Counter(i["customer"]["phone"] for i in calls(items) if i["customer"]["phone"] not in WITHHELD)
    top_count = per_number.most_common(1)[0][1]
    assert top_count >= 5, per_number.most_common(3)
    assert sum(1 for c in per_number.values() if c >= 5) >= 5  # a few, not just one
    assert top_count < 0.1 * len(calls(items))  # nobody dominates the archive


def test_chat_and_email_customers_have_addresses_sometimes_in_mixed_case(items: list[dict[str, Any]]) -> None:
    emails = [i["customer"]["email"] for i in items if i["channel"] in {"chat", "email"}]
    assert all(re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]+", e) for e in emails)
    assert any(e != e.lower() for e in emails)
    assert sum(1 for e in emails if e == e.lower()) > 0.7 * len(emails)


def test_personal_data_also_appears_in_free_text(items: list[dict[str, Any]]) -> None:
    chat_text = [m["text"] for i in items if i["channel"] == "chat" for m in i["messages"] if m["from"] == "customer"]
    assert any(re.search(r"\d{3} \d{2} \d{3}|\d{8}", t) for t in chat_text), "no phone number typed in a chat"
    assert any("@" in t for t in chat_text), "no email address typed in a chat"
    bodies = [i["body"] for i in items if i["channel"] == "email"]
    assert any(re.search(r"(Tlf|Phone): ", b) for b in bodies)
    assert any("callback_number" in i["variables"] for i in calls(items))


def test_names_are_norwegian_looking_and_include_special_letters(items: list[dict[str, Any]]) -> None:
    names = {i["customer"]["name"] for i in items if i["customer"]["name"]} | {i["agent"] for i in items if i["agent"]}
    assert len(names) > 100
    assert any(ch in n for n in names for ch in "æøåÆØÅ")


# ---------------------------------------------------------------------- audio


@pytest.mark.parametrize("seconds", [2.0, 3.3, 6.0, 0.5])
def test_make_wav_is_a_mono_16bit_8khz_wav_of_the_requested_length(seconds: float) -> None:
    data = make_wav(seconds, seed=1)
    with wave.open(io.BytesIO(data), "rb") as w:
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getframerate() == 8000
        assert w.getcomptype() == "NONE"
        frames = w.getnframes()
        assert abs(frames - seconds * 8000) <= 1
        assert len(w.readframes(frames)) == 2 * frames
    assert len(data) == 44 + 2 * frames


def test_make_wav_honours_another_sample_rate() -> None:
    with wave.open(io.BytesIO(make_wav(1.5, seed=2, sample_rate=16000)), "rb") as w:
        assert w.getframerate() == 16000
        assert abs(w.getnframes() - 24000) <= 1


def test_make_wav_is_deterministic_per_seed() -> None:
    assert make_wav(3.0, seed=5) == make_wav(3.0, seed=5)
    assert make_wav(3.0, seed=5) != make_wav(3.0, seed=6)


def test_make_wav_is_audible_but_not_clipped() -> None:
    data = make_wav(4.0, seed=9)
    with wave.open(io.BytesIO(data), "rb") as w:
        samples = array("h", w.readframes(w.getnframes()))
    peak = max(abs(min(samples)), max(samples))
    assert 4000 < peak < 32000
    loud = sum(1 for s in samples if abs(s) > 1000)
    assert loud > 0.2 * len(samples)  # mostly "speech", not silence


def test_make_wav_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="seconds must be"):
        make_wav(-1.0, seed=1)
    with pytest.raises(ValueError, match="seconds must be"):
        make_wav(float("nan"), seed=1)
    with pytest.raises(ValueError, match="sample_rate must be"):
        make_wav(1.0, seed=1, sample_rate=0)
