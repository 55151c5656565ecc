"""Real WAV files for the silencing tests: tones encoded here, in every layout a recorder writes.

PCM 8-bit (unsigned), 16/24/32-bit (signed, little-endian), μ-law and A-law (G.711, encoded with
the standard's formula, not a library), any channel count, optionally as WAVE_FORMAT_EXTENSIBLE,
with chunks of any (odd) size before ``data``. No sample of a tone is digital silence, so a test
can tell silenced samples from kept ones.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

PCM, ALAW, MULAW, EXTENSIBLE = 0x0001, 0x0006, 0x0007, 0xFFFE
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def mulaw(sample: int) -> int:
    """G.711 μ-law code of a 16-bit sample (the standard's biased segment encoding)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def alaw(sample: int) -> int:
    """G.711 A-law code of a 16-bit sample (13-bit magnitude, even bits inverted)."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(-sample if sample < 0 else sample, 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


@dataclass(frozen=True)
class Layout:
    """How a test WAV is written."""

    fmt: int = PCM  # PCM, ALAW or MULAW
    bits: int = 16
    channels: int = 1
    rate: int = 8000
    extensible: bool = False
    # Chunks written between `fmt ` and `data` (e.g. an odd-sized LIST chunk), and before `fmt `.
    before_data: tuple[tuple[bytes, bytes], ...] = ()
    before_fmt: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8

    @property
    def silence(self) -> bytes:
        """One silent frame."""
        byte = {ALAW: 0xD5, MULAW: 0xFF}.get(self.fmt, 0x80 if self.bits == 8 else 0x00)
        return bytes([byte]) * self.block_align


def _sample_bytes(layout: Layout, value: float) -> bytes:
    """One sample of ``value`` in [-1, 1), never the format's silence."""
    if layout.fmt in (ALAW, MULAW):
        s16 = int(value * 30000)
        if -1000 < s16 < 1000:  # small samples would encode as the silence code itself
            s16 = 1000 if s16 >= 0 else -1000
        code = alaw(s16) if layout.fmt == ALAW else mulaw(s16)
        return bytes([code])
    full = 1 << (layout.bits - 1)
    number = int(value * (full - 1) * 0.9) or full // 3
    if layout.bits == 8:
        return bytes([number + 128])
    return number.to_bytes(layout.bits // 8, "little", signed=True)


def tone_frames(layout: Layout, frames: int, hz: float = 440.0) -> bytes:
    """``frames`` frames of a tone, each channel a different phase."""
    out = bytearray()
    for i in range(frames):
        for channel in range(layout.channels):
            out += _sample_bytes(layout, math.sin(2 * math.pi * hz * i / layout.rate + channel))
    return bytes(out)


def _chunk(chunk_id: bytes, body: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def fmt_chunk(layout: Layout) -> bytes:
    rate, channels, bits = layout.rate, layout.channels, layout.bits
    common = struct.pack("<IIHH", rate, rate * layout.block_align, layout.block_align, bits)
    if layout.extensible:
        guid = struct.pack("<H", layout.fmt) + _GUID_TAIL
        mask = (1 << channels) - 1
        body = struct.pack("<HH", EXTENSIBLE, channels) + common + struct.pack("<HHI", 22, bits, mask) + guid
    elif layout.fmt == PCM:
        body = struct.pack("<HH", PCM, channels) + common
    else:
        body = struct.pack("<HH", layout.fmt, channels) + common + struct.pack("<H", 0)
    return _chunk(b"fmt ", body)


def make_wav(layout: Layout, frames: int, *, trailing: bytes = b"") -> bytes:
    """A whole WAV file: RIFF header, the chunks, ``data`` with a tone, and ``trailing`` chunks after it."""
    chunks = b"".join(_chunk(i, b) for i, b in layout.before_fmt) + fmt_chunk(layout)
    chunks += b"".join(_chunk(i, b) for i, b in layout.before_data)
    chunks += _chunk(b"data", tone_frames(layout, frames)) + trailing
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def data_offset(wav: bytes) -> int:
    """Where the ``data`` chunk's samples start (found independently of the code under test)."""
    offset = 12
    while wav[offset : offset + 4] != b"data":
        size = struct.unpack("<I", wav[offset + 4 : offset + 8])[0]
        offset += 8 + size + (size & 1)
    return offset + 8


def silenced_frames(rate: int, frames: int, begin_ms: int, end_ms: int) -> range:
    """The frames i with begin_ms <= 1000 * i / rate < end_ms, by exact rational comparison."""
    return range(frames)[
        next((i for i in range(frames) if 1000 * i >= begin_ms * rate), frames) : next(
            (i for i in range(frames) if 1000 * i >= end_ms * rate), frames
        )
    ]
