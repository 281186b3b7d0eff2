"""The media-checks plugin on crafted audio and video: inputs that must pass and must fail.

Audio is synthesised with numpy and written with soundfile, video with imageio's ffmpeg
writer (and Pillow for an animated GIF), all inside the tests. The speech check is tested
for real without a recogniser ("not checked") and, for its comparison, with a transcriber
built here that returns a fixed text: a test double of the recogniser only.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date

import imageio.v3 as iio
import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from scipy.ndimage import gaussian_filter

from assay import (
    CHECK_STATUSES,
    SEVERITIES,
    BannedTerm,
    Check,
    CheckContext,
    CheckSubject,
    Disclaimer,
)
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.generation.storage import store_outputs
from assay.plugins.contracts import GeneratedOutput
from assay.plugins.manager import build_plugins
from governance.review.brand import update_brand_kit
from governance.review.checks import run_checks
from governance.review.models import CheckResult
from plugins.media_checks import plugin
from plugins.media_checks.audio import (
    AudioClippingCheck,
    AudioDurationCheck,
    AudioLoudnessCheck,
    AudioSilenceCheck,
)
from plugins.media_checks.carried import (
    ScriptBannedTermsCheck,
    ScriptDisclaimersCheck,
    carried_text,
)
from plugins.media_checks.frames import FrameBlankCheck, FrameNoiseCheck
from plugins.media_checks.speech import WARN_WER, SpeechScriptCheck, align_words
from plugins.media_checks.transcribers import SETTING
from plugins.media_checks.video import (
    BlackFramesCheck,
    FrozenFramesCheck,
    VideoResolutionCheck,
    VideoTimingCheck,
)

RATE = 16000
IDS = {"audio-duration", "audio-clipping", "audio-silence", "audio-loudness", "speech-script",
       "video-duration", "video-black-frames", "video-frozen-frames", "video-resolution",
       "video-frames-blank", "video-frames-noise", "script-banned-terms",
       "script-disclaimers"}


def ctx(**kwargs) -> CheckContext:
    return CheckContext(project="launch", today=date(2026, 3, 1), **kwargs)


def tone(seconds: float = 3.0, amplitude: float = 0.25, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def wav(samples: np.ndarray, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format=fmt)
    return buffer.getvalue()


def audio(data: bytes, **kwargs) -> CheckSubject:
    return CheckSubject("asset-1", "audio", "audio/wav", hashlib.sha256(data).hexdigest(),
                        data=data, **kwargs)


def mp4(frames: np.ndarray, fps: float = 8) -> bytes:
    return iio.imwrite("<bytes>", frames, extension=".mp4", plugin="FFMPEG", fps=fps)


def video(data: bytes, media_type: str = "video/mp4", **kwargs) -> CheckSubject:
    return CheckSubject("asset-2", "video", media_type, hashlib.sha256(data).hexdigest(),
                        data=data, **kwargs)


def scene(n: int = 16, size: int = 256, seed: int = 3) -> np.ndarray:
    """A moving picture: a smooth coloured texture panning 4 pixels per frame."""
    rng = np.random.default_rng(seed)
    cells = rng.random((size // 16 + 2, (size + 4 * n) // 16 + 2, 3))
    texture = gaussian_filter(np.kron(cells, np.ones((16, 16, 1))) * 220 + 20, (6, 6, 0))
    return np.stack([texture[:size, 4 * i:4 * i + size] for i in range(n)]).astype(np.uint8)


# --- the plugin -------------------------------------------------------------------------


def test_plugin_registers_every_media_check():
    classes = plugin.register_checks()
    assert {cls.id for cls in classes} == IDS
    for cls in classes:
        assert issubclass(cls, Check) and cls.version == "1.0" and cls.description
        assert cls.default_severity in SEVERITIES
        assert set(cls.modalities) <= {"audio", "video"}
    plugins = build_plugins(strict=True, entry_points=[], extra=[("media_checks", plugin)])
    assert set(plugins.checks) == IDS


# --- audio ------------------------------------------------------------------------------


def test_a_clean_tone_passes_every_audio_check():
    subject = audio(wav(tone(3.0)), parameters={"duration": 3})
    for check in (AudioDurationCheck, AudioClippingCheck, AudioSilenceCheck,
                  AudioLoudnessCheck):
        outcome = check().run(subject, ctx())
        assert outcome.status == "pass", (check.id, outcome.summary)
        assert outcome.severity == "info"


@pytest.mark.parametrize("fmt", ["OGG", "MP3"])
def test_ogg_and_mp3_are_read_too(fmt):
    outcome = AudioDurationCheck().run(audio(wav(tone(2.0), fmt)), ctx())
    assert outcome.status == "pass" and abs(outcome.score - 2.0) < 0.1


def test_a_one_second_clip_when_ten_were_asked_fails_duration():
    outcome = AudioDurationCheck().run(audio(wav(tone(1.0)), parameters={"duration": 10}),
                                       ctx())
    assert outcome.status == "fail" and outcome.severity == "medium"
    assert outcome.summary == "1 s long, but 10 s were asked for"
    assert "allowed 8.5 s to 11.5 s" in outcome.evidence[0].message


def test_duration_without_an_asked_length_checks_a_sane_range():
    assert AudioDurationCheck().run(audio(wav(tone(2.0))), ctx()).status == "pass"
    short = AudioDurationCheck().run(audio(wav(tone(0.1))), ctx())
    assert short.status == "fail" and "too short" in short.evidence[0].message


def test_a_clipped_wav_fails_clipping_with_the_times():
    clipped = np.clip(tone(2.0, amplitude=2.0), -1.0, 1.0)
    outcome = AudioClippingCheck().run(audio(wav(clipped)), ctx())
    assert outcome.status == "fail" and outcome.score > 0.1
    assert outcome.evidence[0].message.startswith("clipped from ")
    assert "time_start" in outcome.evidence[0].data


def test_one_short_clipped_burst_only_warns():
    samples = tone(3.0)
    samples[RATE: RATE + 4] = 1.0
    outcome = AudioClippingCheck().run(audio(wav(samples)), ctx())
    assert outcome.status == "warn" and outcome.severity == "low"
    assert outcome.evidence[0].data["time_start"] == 1.0


def test_a_tone_peaking_at_full_scale_is_not_clipping():
    assert AudioClippingCheck().run(audio(wav(tone(2.0, amplitude=0.9999, freq=100))),
                                    ctx()).status == "pass"


def test_a_silent_wav_fails_silence():
    outcome = AudioSilenceCheck().run(audio(wav(np.zeros(3 * RATE, np.float32))), ctx())
    assert outcome.status == "fail" and outcome.severity == "high"
    assert outcome.summary == "the audio is silent"


def test_a_five_second_gap_fails_silence_at_its_place():
    samples = np.concatenate([tone(1.0), np.zeros(5 * RATE, np.float32), tone(1.0)])
    outcome = AudioSilenceCheck().run(audio(wav(samples)), ctx())
    assert outcome.status == "fail" and outcome.severity == "medium"
    [gap] = outcome.evidence
    assert gap.message == "silent from 1 s to 6 s"
    assert (gap.data["time_start"], gap.data["time_end"]) == (1.0, 6.0)


def test_a_short_pause_is_not_a_long_silence():
    samples = np.concatenate([tone(1.0), np.zeros(RATE, np.float32), tone(1.0)])
    assert AudioSilenceCheck().run(audio(wav(samples)), ctx()).status == "pass"


def test_loudness_far_off_target_warns_then_fails():
    near = AudioLoudnessCheck().run(audio(wav(tone(3.0, 0.25))), ctx())
    assert near.status == "pass" and -19 < near.score < -13
    quiet = AudioLoudnessCheck().run(audio(wav(tone(3.0, 0.12))), ctx())
    assert quiet.status == "warn" and "turn it up" in quiet.evidence[0].message
    very_quiet = AudioLoudnessCheck().run(audio(wav(tone(3.0, 0.01))), ctx())
    assert very_quiet.status == "fail" and very_quiet.evidence[0].data["target_lufs"] == -16
    silent = AudioLoudnessCheck().run(audio(wav(np.zeros(RATE, np.float32))), ctx())
    assert silent.status == "fail" and "silent" in silent.summary


def test_undecodable_audio_fails_every_check_with_the_reason():
    subject = audio(b"RIFF not really a wave file")
    for check in (AudioDurationCheck, AudioClippingCheck, AudioSilenceCheck,
                  AudioLoudnessCheck):
        outcome = check().run(subject, ctx())
        assert outcome.status == "fail" and outcome.severity == "high"
        assert outcome.summary.startswith("could not read the audio: not a readable audio")


# --- speech -----------------------------------------------------------------------------


class FixedTranscriber:
    """Test double of a speech recogniser: 'hears' a fixed text."""

    name = "test-transcriber"

    def __init__(self, heard: str) -> None:
        self.heard = heard
        self.calls: list[tuple[int, int]] = []

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        self.calls.append((len(samples), rate))
        return self.heard


SCRIPT = "Meet Kite, the lightest kettle we have ever made."


def speech(**metadata) -> CheckSubject:
    return audio(wav(tone(2.0)), generator="speech-vits", prompt=SCRIPT, metadata=metadata)


def test_speech_without_a_recogniser_is_not_checked_never_passed(monkeypatch):
    monkeypatch.delenv(SETTING, raising=False)
    outcome = SpeechScriptCheck().run(speech(), ctx())
    assert outcome.status == "warn" and outcome.severity == "info"
    assert outcome.summary.startswith("Not checked: no speech-recognition model is configured")
    assert SETTING in outcome.summary and outcome.metadata["checked"] is False


def test_a_recogniser_that_cannot_load_is_not_checked_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv(SETTING, str(tmp_path))  # an empty folder is no model
    outcome = SpeechScriptCheck().run(speech(), ctx())
    assert outcome.status == "warn" and outcome.severity == "medium"
    assert outcome.summary == (f"Not checked: the speech-recognition model could not be "
                               f"loaded ({tmp_path} is not a model folder (no config.json)).")
    monkeypatch.setenv(SETTING, "someone/asr-model")
    outcome = SpeechScriptCheck().run(speech(), ctx())
    assert "names no commit" in outcome.summary and outcome.metadata["checked"] is False


def tiny_wav2vec2(folder) -> None:
    """An untrained wav2vec2 CTC model of a few kilobytes, built offline into ``folder``."""
    import json

    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    vocab = {"<pad>": 0, "<unk>": 1, "|": 2,
             **{c: i + 3 for i, c in enumerate("abcdefghijklmnopqrstuvwxyz'")}}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), unk_token="<unk>",
                                     pad_token="<pad>", word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000,
                                         padding_value=0.0, do_normalize=True)
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)


def test_a_configured_recogniser_is_loaded_from_its_folder_and_compared(monkeypatch,
                                                                       tmp_path):
    # An untrained model hears gibberish: the configured path runs for real (folder,
    # pipeline, resampling 22.05 kHz to the model's 16 kHz) and can only fail, never pass.
    tiny_wav2vec2(tmp_path)
    monkeypatch.setenv(SETTING, str(tmp_path))
    buffer = io.BytesIO()
    sf.write(buffer, np.sin(np.arange(22050) / 5).astype(np.float32) * 0.3, 22050,
             format="WAV")
    subject = audio(buffer.getvalue(), generator="speech-vits", prompt=SCRIPT)
    outcome = SpeechScriptCheck().run(subject, ctx())
    assert outcome.metadata["checked"] is True and outcome.metadata["model"] == str(tmp_path)
    assert outcome.status == "fail" and outcome.score > WARN_WER
    assert outcome.evidence[-1].message.startswith("heard: '")


def test_the_matching_script_passes_with_the_test_transcriber():
    heard = FixedTranscriber("meet kite - the lightest kettle we have ever made")
    outcome = SpeechScriptCheck(heard).run(speech(), ctx())
    assert outcome.status == "pass" and outcome.metadata["model"] == "test-transcriber"
    assert heard.calls == [(2 * RATE, RATE)]
    assert outcome.score <= 0.15


def test_a_wrong_script_fails_with_the_differing_words():
    heard = FixedTranscriber("Meet Kite, the heaviest toaster we have sold.")
    outcome = SpeechScriptCheck(heard).run(speech(script="Meet Kite, the lightest kettle we "
                                                         "have ever made."), ctx())
    assert outcome.status == "fail" and outcome.severity == "high"
    assert outcome.summary == "the audio does not say the script: 4 of 9 words differ (44%)"
    messages = [e.message for e in outcome.evidence]
    assert "the script says 'lightest' but 'heaviest' was heard" in messages
    assert "'ever' is in the script but was not heard" in messages
    assert outcome.evidence[-1].message == "heard: 'Meet Kite, the heaviest toaster we have sold.'"


def test_a_script_with_one_slip_only_warns():
    heard = FixedTranscriber("Meet Kite, the lightest kettle we have never sold.")
    outcome = SpeechScriptCheck(heard).run(speech(), ctx())
    assert outcome.status == "warn" and outcome.severity == "medium"
    assert outcome.summary == "the audio does not say the script: 2 of 9 words differ (22%)"


def test_word_alignment_counts_insertions_deletions_and_substitutions():
    alignment = align_words("the quick brown fox", "the quick red fox jumps")
    assert alignment.errors == 2 and alignment.script_words == 4
    assert alignment.differences == (("brown", "red"), ("", "jumps"))
    assert align_words("Hello, world!", "hello world").errors == 0


def test_music_is_not_speech_so_there_is_no_script():
    outcome = SpeechScriptCheck(FixedTranscriber("x")).run(
        audio(wav(tone(2.0)), generator="music-musicgen", prompt="upbeat piano"), ctx())
    assert outcome.status == "pass" and "not speech" in outcome.summary


# --- brand rules on carried text ---------------------------------------------------------


def test_a_banned_term_in_a_speech_script_is_found():
    kit = ctx(banned_terms=[BannedTerm("cheap", ("affordable",))])
    outcome = ScriptBannedTermsCheck().run(
        audio(wav(tone(1.0)), generator="speech-vits", prompt="Kite is the cheapest kettle."),
        kit)
    assert outcome.status == "fail"
    assert outcome.summary == "script: 1 banned term found: cheap"
    [hit] = outcome.evidence
    assert hit.message.startswith("in the script: 'cheapest' is banned")
    assert hit.span is None and hit.data["text_span"] == [12, 20]


def test_captions_of_a_video_get_the_disclaimer_rule():
    kit = ctx(disclaimers=[Disclaimer("Terms apply.", ("price",))])
    subject = video(b"", metadata={"captions": [{"text": "Only $20 today"}]})
    assert carried_text(subject).source == "captions"
    outcome = ScriptDisclaimersCheck().run(subject, kit)
    assert outcome.status == "fail" and outcome.summary.startswith("captions: ")


def test_music_carries_no_words_for_the_text_rules():
    kit = ctx(banned_terms=[BannedTerm("cheap")])
    outcome = ScriptBannedTermsCheck().run(
        audio(wav(tone(1.0)), generator="music-musicgen", prompt="a cheap jingle"), kit)
    assert outcome.status == "pass" and "no script or captions" in outcome.summary


# --- video ------------------------------------------------------------------------------


def test_a_moving_clip_passes_every_video_check():
    subject = video(mp4(scene(16)), parameters={"frames": 16, "fps": 8})
    for check in (VideoTimingCheck, BlackFramesCheck, FrozenFramesCheck,
                  VideoResolutionCheck, FrameBlankCheck, FrameNoiseCheck):
        outcome = check().run(subject, ctx())
        assert outcome.status == "pass", (check.id, outcome.summary)


def test_a_one_second_clip_when_ten_were_asked_fails_timing():
    outcome = VideoTimingCheck().run(video(mp4(scene(8)), parameters={"frames": 80, "fps": 8}),
                                     ctx())
    assert outcome.status == "fail"
    assert "it has 8 frames, but 80 were asked for" in outcome.summary
    assert "it lasts 1 s, but 10 s were asked for" in outcome.summary


def test_a_wrong_frame_rate_fails_timing():
    outcome = VideoTimingCheck().run(video(mp4(scene(16), fps=16),
                                           parameters={"frames": 16, "fps": 8}), ctx())
    assert outcome.status == "fail" and "it plays at 16 fps, but 8 fps were asked for" in \
        outcome.summary


def test_black_frames_fail():
    frames = np.zeros((16, 128, 128, 3), np.uint8)
    outcome = BlackFramesCheck().run(video(mp4(frames)), ctx())
    assert outcome.status == "fail" and outcome.summary == "the video is black throughout"
    half = scene(16, 128)
    half[8:] = 0
    outcome = BlackFramesCheck().run(video(mp4(half)), ctx())
    assert outcome.status == "fail" and outcome.score == 0.5
    assert outcome.evidence[0].message == "black from 1 s to 2 s (8 frames)"
    blank = FrameBlankCheck().run(video(mp4(frames)), ctx())
    assert blank.status == "fail" and blank.evidence[0].message.startswith("frame 1 (at 0 s):")


def test_a_frozen_video_fails():
    still = np.repeat(scene(1)[:1], 16, axis=0)
    outcome = FrozenFramesCheck().run(video(mp4(still)), ctx())
    assert outcome.status == "fail" and outcome.severity == "high"
    assert outcome.summary == "the video does not move: every frame is the same picture"
    part = np.concatenate([scene(8), np.repeat(scene(8)[-1:], 24, axis=0)])
    outcome = FrozenFramesCheck().run(video(mp4(part)), ctx())
    assert outcome.status == "fail" and outcome.severity == "medium"
    assert outcome.summary == "the picture freezes for 3.12 s"
    assert outcome.evidence[0].data["frame_start"] == 7


def test_a_too_small_video_fails_resolution():
    outcome = VideoResolutionCheck().run(video(mp4(scene(4, 64))), ctx())
    assert outcome.status == "fail" and outcome.summary == "64×64 is below the minimum 256×256"
    assert outcome.evidence[0].region == (0, 0, 64, 64)
    assert VideoResolutionCheck().run(video(mp4(scene(4, 64))),
                                      ctx(min_width=64, min_height=64)).status == "pass"


def test_noise_frames_warn_through_the_image_noise_check():
    noise = (np.random.default_rng(1).random((8, 128, 128, 3)) * 255).astype(np.uint8)
    outcome = FrameNoiseCheck().run(video(mp4(noise)), ctx())
    assert outcome.status == "warn" and "random noise" in outcome.summary


def test_an_animated_gif_is_read_with_pillow():
    frames = [Image.fromarray(f) for f in scene(6, 64)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=100, loop=0)
    outcome = VideoTimingCheck().run(video(buffer.getvalue(), "image/gif",
                                           parameters={"frames": 6, "fps": 10}), ctx())
    assert outcome.status == "pass", outcome.summary


def test_undecodable_video_fails_with_the_reason():
    outcome = BlackFramesCheck().run(video(b"\x00\x00\x00 ftyp broken"), ctx())
    assert outcome.status == "fail" and outcome.summary.startswith("could not read the video")


def test_every_outcome_uses_the_contracts_statuses():
    subjects = [audio(wav(tone(1.0))), video(mp4(scene(4, 64)))]
    for cls in plugin.register_checks():
        for subject in subjects:
            if subject.kind in cls.modalities:
                outcome = cls().run(subject, ctx())
                assert outcome.status in CHECK_STATUSES and outcome.severity in SEVERITIES


# --- end to end: a stored audio asset through the review checks ---------------------------


@pytest.mark.django_db
def test_a_stored_speech_asset_gets_the_media_findings_through_run_checks(
        users, project, template, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.delenv(SETTING, raising=False)
    update_brand_kit(users["owner"], project, {"banned_terms": [
        {"term": "cheap", "alternatives": ["affordable"]}]})
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"})
    # The row as a speech job writes it (the speech generator itself is not needed here).
    script = "Kite is the cheapest kettle."
    GenerationJob.objects.filter(pk=job.pk).update(
        modality="audio", generator_id="speech-vits", parameters={"duration": 10, "seed": 1},
        rendered_prompt=script)
    job.refresh_from_db()
    [asset] = store_outputs(job, [GeneratedOutput(
        kind="audio", media_type="audio/wav", data=wav(tone(1.0)),
        metadata={"script": script})])
    assert asset.file.name.endswith(".wav")

    results = {r.check_id: r for r in run_checks(str(asset.pk))}

    assert set(results) >= {"audio-duration", "audio-clipping", "audio-silence",
                            "audio-loudness", "speech-script", "script-banned-terms",
                            "script-disclaimers"}
    assert not any(check_id.startswith("video-") or check_id == "banned-terms"
                   for check_id in results)
    assert results["audio-duration"].status == "fail"
    assert results["audio-duration"].summary == "1 s long, but 10 s were asked for"
    assert results["audio-clipping"].status == "pass"
    assert results["speech-script"].status == "warn"
    assert results["speech-script"].severity == "info"
    assert results["speech-script"].summary.startswith("Not checked:")
    banned = results["script-banned-terms"]
    assert banned.status == "fail" and banned.plugin == "media_checks"
    assert banned.evidence[0]["data"]["term"] == "cheap"
    stored = CheckResult.objects.get(asset=asset, check_id="audio-silence")
    assert stored.content_sha256 == asset.sha256 and stored.status == "pass"
