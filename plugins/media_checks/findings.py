"""What every media check does before judging: decode the asset, or fail saying why.

Each audio and video check used to open with the same decode-or-fail lines and the same
class attributes; a base class per medium keeps that in one place, so a check's body
starts from the decoded media and a change to how unreadable files are reported reaches
every check at once. Decoding is cached per asset version (:mod:`.media`), so checks of
one asset still pay for one decode.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from assay import Check, CheckContext, CheckOutcome, CheckSubject
from plugins.media_checks.media import (
    Audio,
    MediaRefused,
    Video,
    decode_audio,
    decode_video,
)
from plugins.media_checks.requested import unreadable

__all__ = ["AudioCheck", "MediaCheck", "VideoCheck", "load_audio", "load_video"]


def load_audio(subject: CheckSubject) -> Audio | CheckOutcome:
    """The decoded audio, or the ``fail`` outcome that says why it cannot be read."""
    try:
        return decode_audio(subject.data, subject.sha256)
    except MediaRefused as exc:
        return unreadable("audio", str(exc))


def load_video(subject: CheckSubject) -> Video | CheckOutcome:
    """The decoded video, or the ``fail`` outcome that says why it cannot be read."""
    try:
        return decode_video(subject.data, subject.media_type, subject.sha256)
    except MediaRefused as exc:
        return unreadable("video", str(exc))


class MediaCheck(Check):
    """Decodes first and hands the media to :meth:`judge`; a broken file fails."""

    version: ClassVar[str] = "1.0"
    default_severity: ClassVar[str] = "medium"

    @abc.abstractmethod
    def load(self, subject: CheckSubject) -> Any:
        """The decoded media, or the outcome that says why it cannot be read."""

    @abc.abstractmethod
    def judge(self, media: Any, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """The verdict on media that decoded."""

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Decode, then judge; an unreadable file is the verdict itself."""
        media = self.load(subject)
        if isinstance(media, CheckOutcome):
            return media
        return self.judge(media, subject, context)


class AudioCheck(MediaCheck):
    """A check that judges decoded :class:`~.media.Audio`."""

    modalities: ClassVar[tuple[str, ...]] = ("audio",)

    def load(self, subject: CheckSubject) -> Audio | CheckOutcome:
        """The asset's audio (see :func:`load_audio`)."""
        return load_audio(subject)


class VideoCheck(MediaCheck):
    """A check that judges a decoded :class:`~.media.Video`."""

    modalities: ClassVar[tuple[str, ...]] = ("video",)

    def load(self, subject: CheckSubject) -> Video | CheckOutcome:
        """The asset's video (see :func:`load_video`)."""
        return load_video(subject)
