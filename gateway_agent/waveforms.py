"""Synthetic ECG lead II (250 Hz) and pleth (125 Hz) in 1 s chunks, beat-locked to the heart rate.

ECG: a sum of Gaussian P, Q, R, S, T waves per beat (the McSharry et al. 2003 ECGSYN shape,
simplified to fixed timings), plus baseline wander and noise, in mV. Pleth: a systolic upstroke
and dicrotic notch per beat ~200 ms after the R wave, amplitude proportional to perfusion index.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

ECG_FS = 250
PLETH_FS = 125
# (offset from R in s, width s, amplitude mV)
_PQRST = ((-0.20, 0.025, 0.15), (-0.035, 0.010, -0.12), (0.0, 0.011, 1.2), (0.035, 0.011, -0.25), (0.26, 0.045, 0.3))


@dataclass(slots=True)
class WaveState:
    """Phase carried between chunks so beats continue across chunk borders."""

    next_beat_s: float = 0.3  # time of the next R wave relative to the current chunk start
    last_beat_s: float = -1.0


def _beats(state: WaveState, hr: float, seconds: float) -> list[float]:
    """R-wave times (relative to the chunk start, incl. the previous beat) and advance the state."""
    rr = 60.0 / max(hr, 20.0)
    beats = [state.last_beat_s]
    t = state.next_beat_s
    while t < seconds + 0.5:
        beats.append(t)
        t += rr
    done = [b for b in beats if b < seconds]
    state.last_beat_s = (done[-1] if done else state.last_beat_s) - seconds
    state.next_beat_s = min((b for b in beats if b >= seconds), default=t) - seconds
    return beats


def ecg_chunk(state: WaveState, hr: float, rng: random.Random, seconds: float = 1.0) -> list[float]:
    beats = _beats(state, hr, seconds)
    out = []
    for i in range(int(ECG_FS * seconds)):
        t = i / ECG_FS
        v = 0.0
        for b in beats:
            for off, width, amp in _PQRST:
                d = t - b - off
                if -4 * width < d < 4 * width:
                    v += amp * math.exp(-d * d / (2 * width * width))
        v += 0.05 * math.sin(2 * math.pi * 0.25 * t) + rng.gauss(0, 0.01)
        out.append(round(v, 3))
    return out


def pleth_chunk(state: WaveState, hr: float, pi: float, rng: random.Random, seconds: float = 1.0) -> list[float]:
    beats = _beats(state, hr, seconds)
    amp = max(0.05, pi) / 3.0
    out = []
    for i in range(int(PLETH_FS * seconds)):
        t = i / PLETH_FS
        v = 0.0
        for b in beats:
            d = t - b - 0.2
            if 0 <= d < 1.2:
                v += amp * (math.exp(-((d - 0.12) ** 2) / 0.003) + 0.35 * math.exp(-((d - 0.38) ** 2) / 0.006))
        out.append(round(v + rng.gauss(0, 0.005), 3))
    return out
