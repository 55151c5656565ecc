"""Silencing spoken segments in WAV recordings (CONTRACT §17), on real WAV bytes made in ``tests.wav_samples``.

Inside a segment every byte of every frame is the format's silence; every other byte of the
file — header, other chunks, the samples outside — is the byte that was there.
"""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archivist.archive.audio import (
    HEAD_BYTES,
    WavLayout,
    head_layout,
    merged_spans,
    parse_wav,
    probe,
    silence_bytes,
    silenced,
    stored_layout,
)
from archivist.blobs import make_blob_store
from archivist.blobs.interfaces import Fill
from tests.wav_samples import ALAW, MULAW, PCM, Layout, alaw, data_offset, make_wav, mulaw, silenced_frames


def assert_silenced(layout: Layout, frames: int, segments: list[tuple[int, int]], trailing: bytes = b"") -> None:
    original = make_wav(layout, frames, trailing=trailing)
    result = silence_bytes(original, segments)
    assert result is not None
    assert len(result) == len(original)
    start = data_offset(original)
    inside: set[int] = set()
    for begin, end in segments:
        inside.update(silenced_frames(layout.rate, frames, begin, end))
    block = layout.block_align
    for i in range(frames):
        frame = result[start + i * block : start + (i + 1) * block]
        if i in inside:
            assert frame == layout.silence, i
        else:
            assert frame == original[start + i * block : start + (i + 1) * block], i
    # The header and every byte outside the samples are untouched.
    assert result[:start] == original[:start]
    assert result[start + frames * block :] == original[start + frames * block :]


@pytest.mark.parametrize(
    "layout",
    [
        Layout(PCM, 8),  # unsigned: silence is 0x80
        Layout(PCM, 16),
        Layout(PCM, 24),  # three bytes a sample: a frame boundary is not a word boundary
        Layout(PCM, 32),
        Layout(PCM, 16, channels=2),  # stereo: both channels silenced together
        Layout(PCM, 24, channels=3, rate=11025),  # a rate whose ms are not whole samples
        Layout(MULAW, 8),  # silence 0xFF
        Layout(ALAW, 8, channels=2),  # silence 0xD5
        Layout(PCM, 16, extensible=True),  # WAVE_FORMAT_EXTENSIBLE, PCM subformat
        Layout(MULAW, 8, extensible=True),  # extensible, μ-law subformat
        Layout(PCM, 16, before_data=((b"LIST", b"INFOx"),)),  # an odd-sized chunk (padded) before data
        Layout(PCM, 8, before_fmt=((b"JUNK", b"abc"),), before_data=((b"fact", b"\x10\x00\x00\x00"),)),
    ],
)
def test_samples_inside_the_segment_are_silent_and_every_other_byte_is_kept(layout: Layout) -> None:
    assert_silenced(layout, 4000, [(100, 250), (240, 260), (400, 401)], trailing=b"LIST\x03\x00\x00\x00abc\x00")


def test_a_segment_past_the_end_silences_to_the_end_and_an_empty_one_nothing() -> None:
    assert_silenced(Layout(PCM, 16), 800, [(90, 10_000)])
    assert_silenced(Layout(PCM, 16), 800, [(50, 50)])


def test_the_g711_tables_code_zero_as_the_silence_values() -> None:
    # Our encoders agree with the silence values the module writes.
    assert mulaw(0) == 0xFF
    assert alaw(0) == 0xD5


@pytest.mark.parametrize(
    "data",
    [
        b"ID3\x04" + bytes(100),  # an MP3
        b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32),  # a header that says nothing
        make_wav(Layout(PCM, 16), 10).replace(b"\x01\x00\x01\x00", b"\x03\x00\x01\x00", 1),  # IEEE float
        make_wav(Layout(PCM, 12 + 4), 10)[:30],  # cut off before data
        make_wav(Layout(MULAW, 8), 10).replace(b"data", b"dat\x00"),  # no data chunk
    ],
)
def test_what_is_not_a_wav_we_can_rewrite_faithfully_is_refused(data: bytes) -> None:
    assert silence_bytes(data, [(0, 10)]) is None


def test_a_data_size_past_the_end_of_the_file_is_clamped_to_it() -> None:
    wav = bytearray(make_wav(Layout(PCM, 16), 1000))
    at = data_offset(bytes(wav)) - 4
    wav[at : at + 4] = struct.pack("<I", 0xFFFFFFFF)  # a recorder that never fixed its header
    layout = parse_wav(lambda offset, length: bytes(wav[offset : offset + length]), len(wav))
    assert layout is not None
    assert layout.frames == 1000


def test_the_output_does_not_depend_on_how_the_input_is_cut() -> None:
    wav = make_wav(Layout(PCM, 24, channels=2), 3000)
    layout = parse_wav(lambda offset, length: wav[offset : offset + length], len(wav))
    assert layout is not None
    whole = b"".join(silenced([wav], layout, [(10, 200)]))
    for size in (1, 7, 4096):
        pieces = [wav[i : i + size] for i in range(0, len(wav), size)]
        assert b"".join(silenced(pieces, layout, [(10, 200)])) == whole


@given(
    fmt=st.sampled_from([(PCM, 8), (PCM, 16), (PCM, 24), (PCM, 32), (ALAW, 8), (MULAW, 8)]),
    channels=st.integers(1, 4),
    rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 7]),
    extensible=st.booleans(),
    segments=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 300)), max_size=4),
)
def test_any_format_rate_channels_and_segments_silence_exactly_the_segments(
    fmt: tuple[int, int], channels: int, rate: int, extensible: bool, segments: list[tuple[int, int]]
) -> None:
    layout = Layout(fmt[0], fmt[1], channels=channels, rate=rate, extensible=extensible)
    frames = max(1, rate // 2)  # half a second
    assert_silenced(layout, frames, [(begin, begin + length) for begin, length in segments])


def test_silencing_a_large_recording_in_place_writes_only_the_span_in_bounded_memory(tmp_path: Path) -> None:
    # 24 MB of 16-bit stereo at 48 kHz (about two minutes), on local disk through the real store.
    blobs = make_blob_store(f"file://{tmp_path}")
    layout = Layout(PCM, 16, channels=2, rate=48_000)
    frames = 6_000_000
    wav = make_wav(layout, 1000)
    head = wav[: data_offset(wav)]
    size = frames * layout.block_align
    head = head[:-4] + struct.pack("<I", size)
    head = head[:4] + struct.pack("<I", len(head) - 8 + size) + head[8:]
    path = tmp_path / "recordings" / "big.wav"
    path.parent.mkdir()
    with path.open("wb") as file:
        file.write(head)
        block = bytes(range(1, 241)) * 4096  # no byte of it is silence
        for _ in range(size // len(block)):
            file.write(block)
        file.write(block[: size % len(block)])
    layout_read = probe(blobs, "recordings/big.wav")
    assert layout_read is not None
    assert layout_read.frames == frames

    original = tmp_path / "original.wav"
    original.write_bytes(path.read_bytes())
    inode = path.stat().st_ino

    tracemalloc.start()
    try:
        spans = merged_spans(layout_read, [(1000, 61_000)])
        assert blobs.fill([Fill("recordings/big.wav", tuple(spans), layout_read.silence)]) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert path.stat().st_size == original.stat().st_size
    assert path.stat().st_ino == inode  # written where it is, not copied
    assert peak < 4 * 1024 * 1024, peak  # a few chunks, never the recording
    with original.open("rb") as before, path.open("rb") as after:
        start = len(head)
        assert after.read(start) == before.read(start)
        span = layout_read.byte_span(1000, 61_000)
        before.seek(span[0])
        after.seek(span[0])
        assert set(after.read(span[1] - span[0])) == {0}
        before.seek(span[1])
        assert after.read() == before.read()


def silence_layout(wav: bytes) -> WavLayout | None:
    return parse_wav(lambda offset, length: wav[offset : offset + length], len(wav))


def test_the_layout_kept_from_the_header_is_the_layout_read_from_the_whole_file() -> None:
    for layout in (Layout(PCM, 16, channels=2), Layout(MULAW, 8, extensible=True), Layout(ALAW, 8)):
        wav = make_wav(layout, 4000)
        whole = silence_layout(wav)
        kept = head_layout(wav[:HEAD_BYTES], len(wav))
        assert whole is not None
        assert kept is not None
        assert stored_layout(kept) == whole


def test_no_layout_is_kept_for_what_cannot_be_silenced_or_a_header_past_the_head() -> None:
    assert head_layout(b"ID3\x04" + bytes(2000), 2004) is None
    long_header = make_wav(Layout(PCM, 16, before_data=((b"LIST", bytes(HEAD_BYTES)),)), 100)
    assert head_layout(long_header[:HEAD_BYTES], len(long_header)) is None  # the night reads the blob
    assert silence_layout(long_header) is not None
    # A kept value that is no layout (another version's fields) is read as none: the blob is read.
    assert stored_layout({"format": 1}) is None
    assert stored_layout(None) is None
