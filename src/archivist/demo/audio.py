"""Tiny, deterministic, telephone-like WAV files for demo call recordings.

The audio is synthetic: a European ring-back tone (425 Hz), a few DTMF
key presses as in an IVR, then "speech" — syllable-sized bursts of a
harmonic tone at a male-ish or female-ish pitch with a smooth envelope,
two speakers taking turns — over a faint noise floor. It sounds like a
phone call heard through a wall, is obviously not a real person, and is
small: mono, 16-bit PCM, 8 kHz by default (16 000 bytes per second).

Everything is derived from ``random.Random(seed)``, so the same arguments
always give the same bytes.
"""

from __future__ import annotations

import io
import math
import random
import sys
import wave
from array import array
from functools import lru_cache
from itertools import repeat
from operator import add, mod, mul

__all__ = ["make_wav"]

# DTMF row and column frequencies (Hz).
_DTMF_LOW = (697, 770, 852, 941)
_DTMF_HIGH = (1209, 1336, 1477)
_RINGBACK_HZ = 425  # CEPT ring-back tone used in Norway and most of Europe

_TONE_AMPLITUDE = 6000.0  # per component; two components peak at ~12 000
_VOICE_AMPLITUDE = 9000.0  # peak of the harmonic sum (weights add to 1)
_HARMONICS = ((1, 0.5), (2, 0.3), (3, 0.2))  # (multiple, weight): sums to 1.0


@lru_cache(maxsize=8)
def _sine_table(sample_rate: int) -> tuple[float, ...]:
    """One second of a 1 Hz sine: ``table[(f * n) % sr]`` is sin(2*pi*f*n/sr)."""
    step = 2.0 * math.pi / sample_rate
    return tuple([math.sin(step * i) for i in range(sample_rate)])


_MAX_PERIOD = 4000  # longest cached single-period wavetable, in samples


def _period(freqs: tuple[int, ...], sample_rate: int) -> int:
    """Samples after which a sum of integer-Hz sines repeats exactly."""
    return sample_rate // math.gcd(sample_rate, *freqs)


@lru_cache(maxsize=256)
def _wavetable(freqs: tuple[int, ...], weights: tuple[float, ...], sample_rate: int) -> tuple[float, ...]:
    """One exact period of ``sum(w * sin(2*pi*f*t))`` sampled at ``sample_rate``."""
    table = _sine_table(sample_rate)
    sr = sample_rate
    return tuple(
        [sum(w * table[(f * n) % sr] for f, w in zip(freqs, weights, strict=True)) for n in range(_period(freqs, sr))]
    )


def _wave(
    freqs: tuple[int, ...],
    weights: tuple[float, ...],
    sample_rate: int,
    start: int,
    length: int,
) -> list[float]:
    """``length`` samples of the tone sum, phase-continuous from sample ``start``."""
    period = _period(freqs, sample_rate)
    if period <= _MAX_PERIOD:  # tile a cached period: C-speed list operations
        wt = _wavetable(freqs, weights, sample_rate)
        phase = start % period
        reps = (phase + length) // period + 1
        return list((wt * reps)[phase : phase + length])
    # long period (e.g. a DTMF pair): look each component up directly,
    # still with C-level map() passes rather than a Python-level loop
    table = _sine_table(sample_rate).__getitem__
    out: list[float] = [0.0] * length
    for f, w in zip(freqs, weights, strict=True):
        idx = map(mod, range(f * start, f * (start + length), f), repeat(sample_rate))
        out = list(map(add, out, map(mul, map(table, idx), repeat(w))))
    return out


def _envelope(length: int, fade: int, amplitude: float) -> list[float]:
    """Linear rise over ``fade`` samples, flat ``amplitude``, linear fall."""
    fade = max(1, min(fade, length // 2))
    up = list(map(mul, range(fade), repeat(amplitude / fade, fade)))
    return up + [amplitude] * (length - 2 * fade) + up[::-1]


def _add_tones(
    buf: list[int],
    start: int,
    length: int,
    freqs: tuple[int, ...],
    weights: tuple[float, ...],
    amplitude: float,
    sample_rate: int,
    fade: int,
) -> None:
    """Mix a sum of integer-Hz sines into ``buf[start:start+length]``.

    The envelope rises and falls linearly over ``fade`` samples at each end
    (``fade >= length // 2`` gives a triangle, i.e. a syllable shape).
    Components at or above Nyquist are dropped.
    """
    end = min(start + length, len(buf))
    length = end - start
    if length < 2:
        return
    keep = [(f, w) for f, w in zip(freqs, weights, strict=True) if 0 < f < sample_rate / 2]
    if not keep:
        return
    fs = tuple(f for f, _ in keep)
    ws = tuple(w for _, w in keep)
    wave_ = _wave(fs, ws, sample_rate, start, length)
    env = _envelope(length, fade, amplitude)
    buf[start:end] = list(map(add, buf[start:end], map(int, map(mul, env, wave_))))


def _render(nframes: int, rng: random.Random, sample_rate: int) -> array[int]:
    sr = sample_rate
    # Noise floor: uniform bytes in -128..127, about -48 dBFS, a line hiss.
    buf = array("b", rng.randbytes(nframes)).tolist()

    def ms(x: float) -> int:
        return int(x * sr / 1000)

    pos = ms(rng.uniform(30, 120))
    # 1) one ring-back burst (0.4–1.0 s), as if the call is being connected
    if rng.random() < 0.7:
        n = ms(rng.uniform(400, 1000))
        _add_tones(buf, pos, n, (_RINGBACK_HZ,), (1.0,), 2 * _TONE_AMPLITUDE, sr, ms(10))
        pos += n + ms(rng.uniform(150, 350))
    # 2) one to three DTMF key presses (IVR choice)
    for _ in range(rng.randint(1, 3)):
        n = ms(rng.uniform(80, 130))
        freqs = (rng.choice(_DTMF_LOW), rng.choice(_DTMF_HIGH))
        _add_tones(buf, pos, n, freqs, (1.0, 1.0), _TONE_AMPLITUDE, sr, ms(5))
        pos += n + ms(rng.uniform(60, 140))
    pos += ms(rng.uniform(150, 400))
    # 3) two "speakers" taking turns with syllable-sized harmonic bursts
    # pitches are whole multiples of 10 Hz so each syllable's waveform has a
    # short exact period (<= 800 samples at 8 kHz) that can be tiled fast
    pitches = (10 * rng.randint(10, 14), 10 * rng.randint(18, 24))
    speaker = rng.randrange(2)
    while pos < nframes:
        f0 = pitches[speaker]
        for _ in range(rng.randint(3, 9)):  # syllables in one phrase
            if pos >= nframes:
                break
            n = ms(rng.uniform(90, 260))
            f = f0 + 10 * rng.randint(-2, 2)  # a little intonation
            loud = _VOICE_AMPLITUDE * rng.uniform(0.45, 1.0)
            _add_tones(
                buf,
                pos,
                n,
                tuple(f * k for k, _ in _HARMONICS),
                tuple(w for _, w in _HARMONICS),
                loud,
                sr,
                n // 3,
            )
            pos += n + ms(rng.uniform(20, 120))
        pos += ms(rng.uniform(250, 700))  # pause between turns
        speaker = 1 - speaker
    return array("h", buf)


def make_wav(seconds: float, seed: int, sample_rate: int = 8000) -> bytes:
    """Return a complete WAV file: mono, 16-bit PCM, ``sample_rate`` Hz.

    The file holds ``round(seconds * sample_rate)`` frames (44-byte header
    plus 2 bytes per frame: 2 s at 8 kHz is 32 044 bytes, 6 s is 96 044).
    The same ``(seconds, seed, sample_rate)`` always gives the same bytes.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    if sample_rate < 1000:
        raise ValueError(f"sample_rate must be >= 1000 Hz, got {sample_rate!r}")
    nframes = round(seconds * sample_rate)
    rng = random.Random(f"archivist-demo-wav:{seed}:{sample_rate}")
    samples = _render(nframes, rng, sample_rate)
    if sys.byteorder == "big":  # WAV PCM is little-endian
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()
