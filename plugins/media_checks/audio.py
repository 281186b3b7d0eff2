"""Audio checks: duration against the request, clipping, long silences, loudness.

Thresholds and why:

- duration: within ``max(1 s, 15 %)`` of the asked duration (a job's ``duration``
  parameter; ``duration_tolerance`` in the parameters overrides the margin). Without an
  asked duration (speech follows its script) only a sane range, 0.3 s to 10 minutes.
- clipping: a sample is at full scale from 0.9999 (about 3 steps of 16-bit audio below
  the top); clipping is a flat top of at least 3 such samples in a row, which a clean
  signal peaking at 0 dBFS does not make. Any clipped run warns; 0.1 % of samples or
  more fails.
- silence: 50 ms windows quieter than −50 dBFS (RMS) are silent; a silent stretch of
  3 s or more fails, and so does audio that is silent throughout.
- loudness: integrated loudness per ITU-R BS.1770 (pyloudnorm) against −16 LUFS, the
  usual target for spoken and online audio; within 3 LU passes, within 8 LU warns,
  further off fails. No brand-kit setting exists for it yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay import CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.media_checks.findings import AudioCheck
from plugins.media_checks.media import MAX_AUDIO_SECONDS, Audio
from plugins.media_checks.requested import asked_duration, seconds

if TYPE_CHECKING:
    import numpy as np

__all__ = ["AudioClippingCheck", "AudioDurationCheck", "AudioLoudnessCheck",
           "AudioSilenceCheck", "runs"]

MIN_TOLERANCE_SECONDS = 1.0
TOLERANCE_SHARE = 0.15
SANE_MIN_SECONDS = 0.3
SANE_MAX_SECONDS = 600.0
FULL_SCALE = 0.9999
CLIP_RUN = 3
CLIP_FAIL_SHARE = 0.001
SILENCE_WINDOW = 0.05
SILENCE_FLOOR_DB = -50.0
MAX_SILENCE_SECONDS = 3.0
TARGET_LUFS = -16.0
LOUDNESS_PASS_LU = 3.0
LOUDNESS_WARN_LU = 8.0
#: Evidence items listed at most per check (the count is always in the summary).
MAX_EVIDENCE = 10


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges where ``mask`` is true, in order."""
    import numpy as np

    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _part(audio: Audio) -> str:
    """A note when only the start of a long file was listened to."""
    if not audio.truncated:
        return ""
    return f" (only the first {seconds(MAX_AUDIO_SECONDS)} were analysed)"


class AudioDurationCheck(AudioCheck):
    """The clip's length against the duration the job asked for."""

    id = "audio-duration"
    description = ("Fails audio whose length is off the duration the job asked for (by more "
                   "than 1 s or 15 %); without an asked duration, checks a sane range.")

    def judge(self, audio: Audio, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the clip's length in seconds."""
        length = round(audio.duration, 3)
        asked = asked_duration(subject.parameters)
        data = {"duration": length, "asked": asked}
        if asked is None:
            if length < SANE_MIN_SECONDS:
                return CheckOutcome("fail", self.default_severity, length,
                                    f"the audio is only {seconds(length)} long", [Evidence(
                                        f"the audio lasts {seconds(length)}, too short to "
                                        "hold anything", data=data)])
            if length > SANE_MAX_SECONDS:
                return CheckOutcome("warn", "low", length,
                                    f"the audio is unusually long ({seconds(length)})", [
                                        Evidence(f"the audio lasts {seconds(length)}, longer "
                                                 f"than {seconds(SANE_MAX_SECONDS)}",
                                                 data=data)])
            return CheckOutcome("pass", "info", length,
                                f"{seconds(length)} long (no duration was asked)")
        given = subject.parameters.get("duration_tolerance")
        tolerance = (float(given) if isinstance(given, int | float) and given >= 0
                     and not isinstance(given, bool)
                     else max(MIN_TOLERANCE_SECONDS, TOLERANCE_SHARE * asked))
        low, high = max(0.0, asked - tolerance), asked + tolerance
        data.update(allowed_from=round(low, 3), allowed_to=round(high, 3))
        if low <= length <= high:
            return CheckOutcome("pass", "info", length,
                                f"{seconds(length)} long, as asked ({seconds(asked)})")
        evidence = Evidence(f"the audio lasts {seconds(length)}, but {seconds(asked)} were "
                            f"asked for (allowed {seconds(low)} to {seconds(high)})",
                            data={**data, "time_start": 0.0, "time_end": length})
        return CheckOutcome("fail", self.default_severity, length,
                            f"{seconds(length)} long, but {seconds(asked)} were asked for",
                            [evidence])


class AudioClippingCheck(AudioCheck):
    """Flat-topped runs of full-scale samples: distortion listeners hear as crackle."""

    id = "audio-clipping"
    description = ("Warns about any clipping (3 or more samples in a row at full scale) and "
                   "fails audio where 0.1 % or more of the samples are clipped.")

    def judge(self, audio: Audio, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the share of clipped samples (0–1)."""
        import numpy as np

        clipped, spans = 0, []
        for channel in range(audio.channels):
            full = np.abs(audio.samples[:, channel]) >= FULL_SCALE
            for start, end in runs(full):
                if end - start >= CLIP_RUN:
                    clipped += end - start
                    spans.append((start, end))
        share = clipped / audio.samples.size
        if not spans:
            return CheckOutcome("pass", "info", 0.0, "no clipping" + _part(audio))
        spans.sort()
        evidence = [Evidence(
            f"clipped from {seconds(a / audio.rate)} to {seconds(b / audio.rate)}",
            data={"time_start": round(a / audio.rate, 3), "time_end": round(b / audio.rate, 3),
                  "samples": b - a}) for a, b in spans[:MAX_EVIDENCE]]
        summary = (f"{share:.2%} of the samples are clipped, in {len(spans)} place"
                   f"{'' if len(spans) == 1 else 's'}{_part(audio)}")
        if share >= CLIP_FAIL_SHARE:
            return CheckOutcome("fail", self.default_severity, round(share, 6), summary,
                                evidence)
        return CheckOutcome("warn", "low", round(share, 6), summary, evidence)


class AudioSilenceCheck(AudioCheck):
    """Audio that is silent, or falls silent for seconds (a failed or cut generation)."""

    id = "audio-silence"
    description = ("Fails audio that is silent throughout or has a silent stretch (below "
                   "−50 dBFS) of 3 s or more.")

    def judge(self, audio: Audio, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the longest silent stretch in seconds."""
        import numpy as np

        mono = audio.mono()
        size = max(1, int(SILENCE_WINDOW * audio.rate))
        count = max(1, len(mono) // size)
        windows = (mono[:count * size].reshape(count, size) if len(mono) >= size
                   else mono.reshape(1, -1))
        rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1))
        level = 20 * np.log10(np.maximum(rms, 1e-10))
        silent = runs(level < SILENCE_FLOOR_DB)
        step = size / audio.rate
        longest = max(((b - a) * step for a, b in silent), default=0.0)
        if len(silent) == 1 and silent[0] == (0, len(level)):
            return CheckOutcome("fail", "high", round(longest, 3),
                                "the audio is silent" + _part(audio), [Evidence(
                                    f"every part of the audio is quieter than "
                                    f"{SILENCE_FLOOR_DB:.0f} dBFS",
                                    data={"time_start": 0.0,
                                          "time_end": round(len(mono) / audio.rate, 3),
                                          "peak_dbfs": round(float(level.max()), 1)})])
        long_ones = [(a * step, b * step) for a, b in silent if (b - a) * step
                     >= MAX_SILENCE_SECONDS - 1e-9]
        if not long_ones:
            return CheckOutcome("pass", "info", round(longest, 3),
                                f"no long silences (longest {seconds(round(longest, 2))})"
                                + _part(audio))
        evidence = [Evidence(f"silent from {seconds(round(a, 2))} to {seconds(round(b, 2))}",
                             data={"time_start": round(a, 3), "time_end": round(b, 3)})
                    for a, b in long_ones[:MAX_EVIDENCE]]
        return CheckOutcome(
            "fail", self.default_severity, round(longest, 3),
            f"{len(long_ones)} silent stretch{'' if len(long_ones) == 1 else 'es'} of "
            f"{seconds(MAX_SILENCE_SECONDS)} or more (longest {seconds(round(longest, 2))})",
            evidence)


class AudioLoudnessCheck(AudioCheck):
    """Integrated loudness (LUFS) against the target, so clips play at an even level."""

    id = "audio-loudness"
    description = ("Compares the integrated loudness (ITU-R BS.1770) with −16 LUFS: within "
                   "3 LU passes, within 8 LU warns, further off fails.")

    def judge(self, audio: Audio, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = integrated loudness in LUFS."""
        import numpy as np
        import pyloudnorm

        samples = audio.samples if audio.channels <= 5 else audio.mono()
        try:
            lufs = float(pyloudnorm.Meter(audio.rate).integrated_loudness(samples))
        except ValueError as exc:  # shorter than one 400 ms measuring block
            return CheckOutcome("warn", "info", None,
                                f"Not measured: the audio is too short to measure its "
                                f"loudness ({exc}).")
        target = TARGET_LUFS
        if not np.isfinite(lufs):
            return CheckOutcome("fail", self.default_severity, None,
                                "the audio is silent, so it has no loudness", [Evidence(
                                    "no part of the audio is loud enough to measure",
                                    data={"target_lufs": target})])
        off = lufs - target
        data = {"lufs": round(lufs, 1), "target_lufs": target, "difference_lu": round(off, 1)}
        described = (f"{lufs:.1f} LUFS, {abs(off):.1f} LU "
                     f"{'louder' if off > 0 else 'quieter'} than the target {target:.0f} LUFS")
        if abs(off) <= LOUDNESS_PASS_LU:
            return CheckOutcome("pass", "info", round(lufs, 2),
                                f"{lufs:.1f} LUFS, near the target {target:.0f} LUFS"
                                + _part(audio))
        advice = "turn it down" if off > 0 else "turn it up"
        evidence = [Evidence(f"the audio measures {described}; {advice}", data=data)]
        if abs(off) <= LOUDNESS_WARN_LU:
            return CheckOutcome("warn", "low", round(lufs, 2), described + _part(audio),
                                evidence)
        return CheckOutcome("fail", self.default_severity, round(lufs, 2),
                            described + _part(audio), evidence)
