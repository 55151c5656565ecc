"""Benchmark: silencing spoken segments in recordings (CONTRACT §17, issue 22's goals).

    python -m bench.silence [--minutes 10] [--segments 20] [--calls 1000] [--repeat 3] [--backends sqlite,postgresql]

1. One recording of ``--minutes`` minutes (16-bit PCM, 8 kHz mono, as ``archivist.demo.audio``
   makes it) in a local-disk blob store: CPU time of silencing ``--segments`` segments (the store's
   ``fill``, as the night's drain calls it) against a plain streamed copy of the same blob through
   the same store. Goal: silencing costs at most 2x the copy.
2. A night that erases one person whose number is spoken in ``--calls`` other people's calls (one
   segment each, a 30-second recording each): the nightly run with the recordings (1,000 segments
   silenced by default) against the same archive without recordings (no audio work), alternating,
   ``--repeat`` times each; medians of wall time and of this process's CPU time (PostgreSQL's own
   processes are not in it). Goal: within 1.2x.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from archivist.accounts import services as accounts
from archivist.anonymize.requests import create_request
from archivist.archive.audio import HEAD_BYTES, head_layout, merged_spans, probe
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.archive.recordings import attach_recording, new_blob_key
from archivist.archive.schemas import InteractionIn
from archivist.blobs import BlobStore, Fill, make_blob_store, stream_reader
from archivist.db import make_session_factory
from archivist.demo.audio import make_wav
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from bench.common import disposing, engine_for, fresh_database, table, write_result

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
KEYRING = MentionKeyring("bench-secret")
PERSON = "91234567"


def cpu(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def rewrite_against_copy(minutes: int, segments: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory(prefix="archivist-bench-silence-") as tmp:
        blobs = make_blob_store(f"file://{tmp}")
        wav = make_wav(minutes * 60.0, seed=1)
        blobs.put("recordings/bench/a.wav", wav, "audio/wav")
        layout = probe(blobs, "recordings/bench/a.wav")
        assert layout is not None
        step = minutes * 60_000 // max(1, segments)
        spans = [(i * step, i * step + 2_000) for i in range(segments)]
        copy = min(
            cpu(
                lambda: blobs.put(
                    "recordings/bench/copy.wav", stream_reader(blobs.open_range("recordings/bench/a.wav")), "audio/wav"
                )
            )
            for _ in range(3)
        )
        fill = Fill("recordings/bench/copy.wav", tuple(merged_spans(layout, spans)), layout.silence)
        silence = min(cpu(lambda: blobs.fill([fill])) for _ in range(3))
    return [
        [f"{minutes} min, {len(wav) / 1e6:.1f} MB", "plain streamed copy", f"{copy:.4f}", "1.00"],
        [f"{segments} segments", "silenced in place", f"{silence:.4f}", f"{silence / copy:.2f} (goal <= 2)"],
    ]


def night(backend: str, calls: int, with_audio: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one nightly run."""
    with fresh_database(backend) as url, disposing(engine_for(url)) as engine:
        factory = make_session_factory(engine)
        blobs: BlobStore
        with tempfile.TemporaryDirectory(prefix="archivist-bench-night-") as tmp:
            blobs = make_blob_store(f"file://{tmp}")
            with factory() as session, session.begin():
                solution = accounts.create_solution(
                    session, name="Bench", country="NO", timezone="Europe/Oslo", is_default=True
                )
            started = NOW - timedelta(days=3)
            bodies = [
                InteractionIn.model_validate(
                    {
                        "channel": "call",
                        "direction": "inbound",
                        "started_at": (started + timedelta(minutes=n)).isoformat(),
                        "customer": {"phone": f"4{n:07d}"},
                        "transcript": [
                            {
                                "begin_ms": 0,
                                "end_ms": 4_000,
                                "speaker": "customer",
                                "text": "Hei, jeg ringer for en venn",
                            },
                            {
                                "begin_ms": 10_000,
                                "end_ms": 14_000,
                                "speaker": "agent",
                                "text": f"Nummeret er {PERSON}?",
                            },
                        ],
                    }
                )
                for n in range(calls)
            ]
            with factory() as session, session.begin():
                ids = [r.id for r in ingest(session, solution, bodies, NOW, keyring=KEYRING)]
            if with_audio:
                wav = make_wav(30.0, seed=2)
                with factory() as session, session.begin():
                    for iid in ids:
                        interaction = session.get_one(Interaction, iid)
                        key = new_blob_key(solution.id, iid, "audio/wav")
                        blobs.put(key, wav, "audio/wav")
                        # As the API stores an upload: with its header's layout, read on the way in.
                        layout = head_layout(wav[:HEAD_BYTES], len(wav))
                        attach_recording(session, interaction, key, "audio/wav", len(wav), NOW, wav_layout=layout)
            with factory() as session, session.begin():
                create_request(
                    session,
                    solution,
                    phone=PERSON,
                    email=None,
                    raw_data=False,
                    delete_content=False,
                    created_by="bench",
                    now=NOW - timedelta(hours=1),
                )
            clock, processor = time.perf_counter(), time.process_time()
            (summary,) = run_nightly(factory, blobs, NOW, keyring=KEYRING, trigger=RunTrigger.CLI)
            elapsed, used = time.perf_counter() - clock, time.process_time() - processor
            assert summary.audio_segments_silenced == (calls if with_audio else 0)
            return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()

    out = ["## Silencing against a plain streamed copy (CPU seconds, best of 3)", ""]
    out.append(table(["recording", "what", "CPU s", "ratio"], rewrite_against_copy(args.minutes, args.segments)))
    rows = []
    for backend in args.backends.split(","):
        plain: list[tuple[float, float]] = []
        audio: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            plain.append(night(backend, args.calls, with_audio=False))
            audio.append(night(backend, args.calls, with_audio=True))
        for index, what in ((0, "wall"), (1, "CPU")):
            without = statistics.median(run[index] for run in plain)
            with_ = statistics.median(run[index] for run in audio)
            ratio = f"{with_ / without:.2f} (goal <= 1.2)"
            rows.append([backend, what, str(args.calls), f"{without:.3f}", f"{with_:.3f}", ratio])
    out += ["", f"## A night erasing one person spoken in other people's calls (seconds, median of {args.repeat})", ""]
    out.append(table(["backend", "time", "segments", "without audio", "with audio", "ratio"], rows))
    text_ = "\n".join(out)
    print(text_)
    print(f"written to {write_result('silence', text_)}")


if __name__ == "__main__":
    main()
