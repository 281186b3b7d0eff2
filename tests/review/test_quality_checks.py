"""The quality-checks plugin: every check with positive and negative cases and exact evidence.

Plain pytest: no database and no Django fixtures. Images are drawn with Pillow and numpy.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import date

import numpy as np
import pytest
from PIL import Image, ImageDraw

from assay import (
    CHECK_STATUSES,
    SEVERITIES,
    BannedTerm,
    Check,
    CheckContext,
    CheckSubject,
    Disclaimer,
    compile_owner_pattern,
)
from assay.plugins.manager import build_plugins
from assay.plugins.patterns import MAX_PATTERN_MATCHES
from plugins.quality_checks import plugin
from plugins.quality_checks.banned_terms import BannedTermsCheck
from plugins.quality_checks.checksums import iban_valid, luhn_valid
from plugins.quality_checks.disclaimers import DisclaimersCheck
from plugins.quality_checks.image import (
    DUPLICATE_MAX_DISTANCE,
    BlankImageCheck,
    ImageRefused,
    MinimumResolutionCheck,
    NearDuplicateCheck,
    hamming,
    perceptual_hash,
)
from plugins.quality_checks.personal_data import PersonalDataCheck
from plugins.quality_checks.profanity import ProfanityCheck
from plugins.quality_checks.readability import (
    LengthReadabilityCheck,
    count_syllables,
    flesch_kincaid_grade,
)
from plugins.quality_checks.terms import TermMatcher, word_forms


def text(value: str | None) -> CheckSubject:
    return CheckSubject("asset-1", "text", "text/plain", "0" * 64, text=value)


def image(data: bytes | None, **kwargs) -> CheckSubject:
    return CheckSubject("asset-1", "image", "image/png", "0" * 64, data=data, **kwargs)


def ctx(**kwargs) -> CheckContext:
    return CheckContext("acme", date(2025, 6, 1), **kwargs)


def spans(outcome, source: str) -> list[str]:
    """The evidence spans as the text they cover, in order."""
    return [source[e.span[0]:e.span[1]] for e in outcome.evidence if e.span]


def encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def scene(seed: int, width: int = 512, height: int = 384) -> Image.Image:
    """A 'real-looking' picture: a colour gradient with random ellipses and rectangles."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height) + 60], -1)
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        size = int(rng.integers(30, 150))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.ellipse([x0, y0, x0 + size, y0 + size], fill=colour)
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.rectangle([y0, x0 % height, y0 + size // 2, x0 % height + size], fill=colour)
    return img


def grey_noise(sigma: float, size: int = 300, seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    values = np.clip(128 + rng.normal(0, sigma, (size, size)), 0, 255)
    return Image.fromarray(values.astype(np.uint8))


# --- the plugin ---------------------------------------------------------------------------

ALL_IDS = {"banned-terms", "required-disclaimers", "personal-data", "length-readability",
           "profanity", "min-resolution", "blank-image", "near-duplicate", "noise-image"}


def test_plugin_registers_every_check_with_its_metadata():
    classes = plugin.register_checks()
    assert {cls.id for cls in classes} == ALL_IDS
    assert plugin.ASSAY_API == ">=1,<2"
    for cls in classes:
        assert issubclass(cls, Check)
        assert cls.version == "1.0"
        assert cls.description
        assert cls.default_severity in SEVERITIES
        assert cls.modalities in (("text",), ("image",))


def test_plugin_loads_through_the_plugin_manager():
    plugins = build_plugins(strict=True, entry_points=[], extra=[("quality_checks", plugin)])
    assert set(plugins.checks) == ALL_IDS


# --- matching -----------------------------------------------------------------------------


def test_word_forms_cover_simple_inflections():
    assert {"cheap", "cheaps", "cheaper", "cheapest"} <= word_forms("cheap")
    assert {"easier", "easiest", "easies"} <= word_forms("easy")
    assert {"bigger", "biggest"} <= word_forms("big")
    assert {"making", "maker", "made"} - word_forms("make") == {"made"}  # no irregulars
    assert {"boxes", "boxed"} <= word_forms("box")
    assert word_forms("in") == {"in"}  # short words match exactly


def test_matcher_phrases_allow_any_whitespace_or_hyphens():
    source = "Best-in-class, best  in\nclass and BEST IN CLASS; bestinclass is not."
    hits = TermMatcher(["best in class"]).find(source)
    assert [source[h.start:h.end] for h in hits] == [
        "Best-in-class", "best  in\nclass", "BEST IN CLASS"]


def test_matcher_respects_symbols_at_term_edges():
    source = "We are #1 and 100% sure, not #12."
    hits = TermMatcher(["#1", "100%"]).find(source)
    assert [h.matched for h in hits] == ["#1", "100%"]


# --- banned terms -------------------------------------------------------------------------


def test_banned_terms_match_inflections_but_not_inside_other_words():
    source = ("Cheaper than ever! The Cheapest deal, not for a cheapskate. "
              "Our cheap's pricing. Priced cheaply. CHEAP!")
    outcome = BannedTermsCheck().run(
        text(source), ctx(banned_terms=[BannedTerm("cheap", ("affordable", "great value"))]))
    assert outcome.status == "fail"
    assert outcome.severity == "medium"
    assert spans(outcome, source) == ["Cheaper", "Cheapest", "cheap's", "CHEAP"]
    assert outcome.evidence[0].span == (0, 7)
    assert outcome.evidence[0].message == (
        "'Cheaper' is banned (a form of 'cheap'); say 'affordable' or 'great value' instead")
    assert outcome.evidence[3].message == (
        "'CHEAP' is banned; say 'affordable' or 'great value' instead")
    assert outcome.evidence[0].data["term"] == "cheap"
    assert outcome.score == 4.0


def test_banned_terms_single_alternative_and_none():
    source = "A revolutionary, world-class product."
    outcome = BannedTermsCheck().run(text(source), ctx(banned_terms=[
        BannedTerm("revolutionary", ("new",)), BannedTerm("world class")]))
    assert spans(outcome, source) == ["revolutionary", "world-class"]
    assert outcome.evidence[0].message == "'revolutionary' is banned; say 'new' instead"
    assert outcome.evidence[1].message == (
        "'world-class' is banned (a form of 'world class'); rephrase without it")


def test_banned_phrase_swallows_a_banned_word_inside_it():
    source = "Find cheap deals here."
    outcome = BannedTermsCheck().run(text(source), ctx(banned_terms=[
        BannedTerm("cheap"), BannedTerm("cheap deal", ("offers",))]))
    assert spans(outcome, source) == ["cheap deals"]


def test_banned_terms_pass_when_absent_or_unconfigured():
    clean = BannedTermsCheck().run(text("Affordable and honest."),
                                   ctx(banned_terms=[BannedTerm("cheap")]))
    assert (clean.status, clean.evidence) == ("pass", [])
    assert BannedTermsCheck().run(text("cheap"), ctx()).status == "pass"


def test_owner_terms_are_escaped_literals_so_they_never_backtrack():
    """Banned terms and keyword triggers are owner input too: each word is re.escape'd and
    pinned by its own letters, so even hostile shapes stay linear on Python's re."""
    source = "(a|a)+$ " + "a" * 5000 + "b"
    rules = ctx(banned_terms=[BannedTerm("(a|a)+$"), BannedTerm("x -y"), BannedTerm("a- -a")])
    started = time.perf_counter()
    outcome = BannedTermsCheck().run(text(source), rules)
    hostile = ["x" + "-" * 20000 + "z", "a-" * 10000, ("x" + " -" * 50 + " ") * 400]
    for value in hostile:
        assert BannedTermsCheck().run(text(value), rules).status == "pass"
    assert time.perf_counter() - started < 2
    assert spans(outcome, source) == ["(a|a)+$"]


# --- required disclaimers -----------------------------------------------------------------

PRICE_DISCLAIMER = Disclaimer("Prices include VAT.", ("price",))


def test_disclaimer_required_by_a_price_is_reported_at_the_price():
    source = "Our new blender, only $19.99 this week."
    outcome = DisclaimersCheck().run(text(source), ctx(disclaimers=[PRICE_DISCLAIMER]))
    assert (outcome.status, outcome.severity) == ("fail", "high")
    assert spans(outcome, source) == ["$19.99"]
    assert outcome.evidence[0].message == (
        "a price ('$19.99') is mentioned but the disclaimer 'Prices include VAT.' is missing")
    assert outcome.evidence[0].data["trigger"] == "price"


def test_disclaimer_satisfied_anywhere_regardless_of_case_and_whitespace():
    source = "PRICES  include\nvat\n\nOur new blender, only 19,99 € this week."
    outcome = DisclaimersCheck().run(text(source), ctx(disclaimers=[PRICE_DISCLAIMER]))
    assert outcome.status == "pass"
    assert outcome.summary == "every triggered disclaimer is present"


@pytest.mark.parametrize(("trigger", "fires", "quiet"), [
    ("price", "Yours for £1,299.", "Join 1,299 happy customers."),
    ("price", "Now 49 EUR only.", "Open 24 hours a day."),
    ("percentage", "Save 20% today.", "Save twenty today."),
    ("percentage", "Save 15 per cent.", "Model 15 percentile."),
    ("health", "Clinically proven to soothe.", "Treat yourself to a spa day."),
    ("health", "It treats acne overnight.", "Dog treats in three flavours."),
    ("health", "Helps prevent colds.", "Prevents scratches on your screen."),
    ("financial", "Guaranteed returns every year.", "Free returns within 30 days."),
    ("financial", "Only 4.9% APR.", "Of interest to every cook."),
    ("keyword:limited", "Limited edition.", "Unlimited refills."),
    ("regex:\\bno\\s+purchase\\b", "No purchase necessary.", "No pressure."),
])
def test_disclaimer_triggers(trigger, fires, quiet):
    rules = ctx(disclaimers=[Disclaimer("Terms apply.", (trigger,))])
    assert DisclaimersCheck().run(text(fires), rules).status == "fail", fires
    assert DisclaimersCheck().run(text(quiet), rules).status == "pass", quiet


def test_disclaimer_evidence_names_the_trigger_kind():
    source = "Clinically proven and 30% off."
    outcome = DisclaimersCheck().run(text(source), ctx(disclaimers=[
        Disclaimer("Consult your doctor.", ("health",)),
        Disclaimer("See terms.", ("percentage",))]))
    assert spans(outcome, source) == ["Clinically", "30%"]
    assert outcome.evidence[0].message.startswith("a health claim ('Clinically') is mentioned")
    assert outcome.evidence[1].message.startswith("a percentage ('30%') is mentioned")


def test_unsafe_or_unknown_triggers_are_refused_with_a_warning():
    assert compile_owner_pattern("x" * 201)[0] is None
    assert compile_owner_pattern("(a)\\1")[0] is None
    assert compile_owner_pattern("[unclosed")[0] is None
    assert compile_owner_pattern("\\bfree\\b")[0] is not None
    rules = ctx(disclaimers=[Disclaimer("Terms apply.", ("regex:(a)\\1", "weather"))])
    started = time.perf_counter()
    outcome = DisclaimersCheck().run(text("a" * 5000 + "!"), rules)
    assert time.perf_counter() - started < 1
    assert (outcome.status, outcome.severity) == ("warn", "low")
    assert "backreference" in outcome.evidence[0].message
    assert "unknown trigger 'weather'" in outcome.evidence[1].message


@pytest.mark.parametrize("pattern", ["(a|a)+$", "(a+)+$", "(\\w+\\s?)*$", "(a*a*)+$"])
def test_owner_patterns_run_on_re2_so_backtracking_shapes_stay_fast(pattern):
    """Python's re took 19 s for (a|a)+$ on 26 characters; RE2 is linear in the text."""
    compiled, error = compile_owner_pattern(pattern)
    assert error is None and compiled.engine == "re2"
    assert type(compiled.compiled).__module__ == "re2"
    rules = ctx(disclaimers=[Disclaimer("Terms apply.", (f"regex:{pattern}",))])
    started = time.perf_counter()
    quiet = DisclaimersCheck().run(text("a" * 5000 + "!"), rules)
    fires = DisclaimersCheck().run(text("a" * 5000), rules)
    assert time.perf_counter() - started < 2
    assert (quiet.status, quiet.summary) == ("pass", "no disclaimer was triggered")
    assert fires.status == "fail" and fires.evidence[0].span == (0, 5000)


def test_owner_pattern_matches_keep_character_offsets_and_ignore_case():
    source = "Café prices: NO PURCHASE necessary, no  purchase required."
    rules = ctx(disclaimers=[Disclaimer("Terms apply.", ("regex:no\\s+purchase",))])
    outcome = DisclaimersCheck().run(text(source), rules)
    assert spans(outcome, source) == ["NO PURCHASE"]
    assert outcome.evidence[0].data["spans"] == [[13, 24], [36, 48]]


def test_a_pattern_that_rescans_the_text_per_match_stays_bounded():
    """``a.*z|a`` rescans the rest of the text for each match: capped, so still linear."""
    compiled, _ = compile_owner_pattern("a.*z|a")
    started = time.perf_counter()
    found = compiled.spans("a" * 200_000)
    assert time.perf_counter() - started < 2
    assert len(found) == MAX_PATTERN_MATCHES and found[0] == (0, 1)


@pytest.mark.parametrize(("pattern", "advice"), [
    ("(a)\\1", "backreference"),
    ("(?P<w>a)(?P=w)", "backreference"),
    ("price(?=s)", "lookahead (?=...)"),
    ("free(?! trial)", "negative lookahead (?!...)"),
    ("(?<=\\$)\\d+", "lookbehind (?<=...)"),
    ("(?<!no )purchase", "negative lookbehind (?<!...)"),
    ("(?>a+)b", "atomic group"),
    ("a++", "write a+ instead"),
    ("end\\Z", "write \\z"),
    ("a{2000}", "smaller count"),
    ("[unclosed", "is not a valid regular expression (missing ]"),
    ("", "is empty"),
    ("x" * 201, "longer than 200 characters"),
])
def test_refused_owner_patterns_say_what_to_change(pattern, advice):
    compiled, reason = compile_owner_pattern(pattern)
    assert compiled is None and advice in reason


def test_disclaimers_pass_when_none_configured_or_triggered():
    assert DisclaimersCheck().run(text("$5"), ctx()).summary == "no disclaimers are configured"
    outcome = DisclaimersCheck().run(text("Nice shoes."), ctx(disclaimers=[PRICE_DISCLAIMER]))
    assert (outcome.status, outcome.summary) == ("pass", "no disclaimer was triggered")


# --- personal data ------------------------------------------------------------------------


def test_checksums():
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")
    assert iban_valid("DE89370400440532013000")
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("DE89370400440532013001")
    assert not iban_valid("DE8937040044053201300")  # one short for Germany


def test_personal_email_fails_and_is_masked():
    source = "Write to jane.doe@example.co.uk today."
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert (outcome.status, outcome.severity) == ("fail", "high")
    assert spans(outcome, source) == ["jane.doe@example.co.uk"]
    assert outcome.evidence[0].message == "email address j***@example.co.uk"
    assert outcome.evidence[0].data["kind"] == "email"


def test_role_addresses_alone_only_warn():
    source = "Questions? hello@brand.com"
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert (outcome.status, outcome.severity) == ("warn", "low")
    assert spans(outcome, source) == ["hello@brand.com"]


@pytest.mark.parametrize("phone", [
    "(555) 123-4567", "555-123-4567", "555.123.4567", "+1 555 123 4567", "+44 20 7946 0958",
    "020 7946 0958", "+49 30 1234567", "0049 30 1234567", "06 12 34 56 78", "555 1234",
    "+33 6 12 34 56 78",
])
def test_phone_numbers_are_found_with_exact_spans(phone):
    source = f"Questions? Reach Sam on {phone}, any time."
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert outcome.status == "fail"
    assert spans(outcome, source) == [phone]
    assert outcome.evidence[0].message == f"phone number ending {phone[-2:]}"


def test_bare_digit_runs_are_phones_only_next_to_a_phone_word():
    assert spans(PersonalDataCheck().run(text("Call 5551234567 now"), ctx()),
                 "Call 5551234567 now") == ["5551234567"]
    assert PersonalDataCheck().run(text("Order 5551234567 shipped"), ctx()).status == "pass"


@pytest.mark.parametrize("source", [
    "Founded in 1999, rebuilt 2024.",
    "From 1990-2020 we grew.",
    "Only $1,299.99 or €1.299,00 or 1 299 € or USD 1500000.",
    "Released 2024-01-15, updated 15.01.2024.",
    "Version 10.0.19041.1234 is out; see v2.11.3.",
    "Server 192.168.100.200 is down.",
    "Over 1 000 000 happy customers and 1,234,567 downloads.",
    "Sizes 10 12 14 16 in stock.",
    "ISBN 978-3-16-148410-0.",
    "Open 9:00-17:30, Mon-Fri.",
    "Save 25% on 3 items.",
    "Order #12345678 has shipped.",
])
def test_numbers_that_are_not_phone_numbers(source):
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert outcome.status == "pass", [e.message for e in outcome.evidence]


def test_luhn_valid_cards_are_found_and_invalid_ones_are_not():
    source = ("Visa 4242 4242 4242 4242, Amex 3782-822463-10005, plain 4000056655665556; "
              "typo 4242 4242 4242 4241, Amex typo 3782 822463 10006, zeros 0000 0000 0000 0000.")
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert spans(outcome, source) == [
        "4242 4242 4242 4242", "3782-822463-10005", "4000056655665556"]
    assert [e.message for e in outcome.evidence] == [
        "card number ending 4242", "card number ending 0005", "card number ending 5556"]
    assert {e.data["kind"] for e in outcome.evidence} == {"card"}


def test_card_number_followed_by_another_number_ends_at_its_last_group():
    source = "Card 4242 4242 4242 4242 123 expires soon."
    assert spans(PersonalDataCheck().run(text(source), ctx()), source) == [
        "4242 4242 4242 4242"]


def test_mod97_valid_ibans_are_found_and_invalid_ones_are_not():
    source = ("Pay to DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432 BIC X; "
              "not DE89 3704 0044 0532 0130 01 nor GB82 WEST 1234 5698 7654 33.")
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert spans(outcome, source) == ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"]
    assert [e.message for e in outcome.evidence] == [
        "IBAN (DE) ending 3000", "IBAN (GB) ending 5432"]


def test_personal_data_messages_never_repeat_the_value():
    values = ["jane.doe@example.com", "+44 20 7946 0958", "4242 4242 4242 4242",
              "DE89 3704 0044 0532 0130 00"]
    source = " and ".join(values)
    outcome = PersonalDataCheck().run(text(source), ctx())
    assert spans(outcome, source) == values
    assert outcome.summary == (
        "personal data found: 1 card number, 1 email address, 1 IBAN, 1 phone number")
    for evidence in outcome.evidence:
        for value in values:
            assert value not in evidence.message
            assert value.replace(" ", "") not in evidence.message


# --- length and readability ---------------------------------------------------------------


@pytest.mark.parametrize(("word", "syllables"), [
    ("cat", 1), ("table", 2), ("readability", 5), ("jumped", 1), ("wanted", 2),
    ("beautiful", 3), ("make", 1), ("makes", 1), ("boxes", 2), ("simple", 2), ("media", 3),
    ("social", 2), ("quality", 3), ("agree", 2), ("conversion", 3), ("the", 1),
])
def test_syllable_counter(word, syllables):
    assert count_syllables(word) == syllables


def test_flesch_kincaid_grade():
    # 6 words, 1 sentence, 18 syllables: 0.39 * 6 + 11.8 * 3 - 15.59
    grade = flesch_kincaid_grade("Readability matters because understanding improves conversion.")
    assert grade == pytest.approx(22.15)
    assert flesch_kincaid_grade("The cat sat.") == 0.0  # negative grades are clamped
    assert flesch_kincaid_grade("  ") is None


SIMPLE = "We sell good shoes. They fit well. You will like them."
DENSE = ("Notwithstanding considerable organisational complexity, comprehensive implementation "
         "necessitates extraordinary interdepartmental coordination and sophisticated "
         "communication methodologies.")


def test_readability_without_targets_passes_and_reports():
    outcome = LengthReadabilityCheck().run(text(SIMPLE), ctx())
    assert outcome.status == "pass"
    assert outcome.summary.startswith("no length or readability targets set; 11 words, grade")
    assert outcome.score == pytest.approx(flesch_kincaid_grade(SIMPLE), abs=0.01)


def test_readability_above_target_warns_at_the_longest_sentence():
    source = SIMPLE + " " + DENSE
    outcome = LengthReadabilityCheck().run(text(source), ctx(max_grade=8))
    assert (outcome.status, outcome.severity) == ("warn", "low")
    assert spans(outcome, source) == [DENSE]
    assert outcome.score > 8
    assert outcome.evidence[0].message.startswith(
        f"reading grade {outcome.score:.1f} is above the target 8")
    assert LengthReadabilityCheck().run(text(SIMPLE), ctx(max_grade=8)).status == "pass"


def test_length_targets():
    too_long = LengthReadabilityCheck().run(text(SIMPLE), ctx(max_words=10))
    assert too_long.status == "warn"
    assert too_long.evidence[0].message == "11 words; the target is at most 10"
    too_short = LengthReadabilityCheck().run(text(SIMPLE), ctx(min_words=50))
    assert too_short.evidence[0].message == "11 words; the target is at least 50"
    within = LengthReadabilityCheck().run(text(SIMPLE), ctx(min_words=5, max_words=20))
    assert within.status == "pass"


def test_lines_without_punctuation_are_sentences():
    bullets = "Free delivery\nEasy returns\nTwo year warranty"
    assert flesch_kincaid_grade(bullets) == flesch_kincaid_grade(
        "Free delivery. Easy returns. Two year warranty.")


# --- profanity ----------------------------------------------------------------------------


def test_profanity_is_found_whole_word_with_inflections():
    source = "What the fuck. Fucking great bullshit, damn good."
    outcome = ProfanityCheck().run(text(source), ctx())
    assert (outcome.status, outcome.severity) == ("fail", "medium")
    assert spans(outcome, source) == ["fuck", "Fucking", "bullshit", "damn"]
    assert outcome.evidence[3].message == "'damn' is mild profanity"
    assert outcome.evidence[3].data["tier"] == "mild"


def test_profanity_not_inside_other_words():
    source = "Scunthorpe shiitake classic assessment Dickens cocktail passion."
    assert ProfanityCheck().run(text(source), ctx()).status == "pass"


def test_mild_profanity_only_warns():
    outcome = ProfanityCheck().run(text("Damn fine coffee."), ctx())
    assert (outcome.status, outcome.severity) == ("warn", "low")


# --- minimum resolution -------------------------------------------------------------------


def test_small_images_fail_with_the_whole_image_as_region():
    outcome = MinimumResolutionCheck().run(image(encode(scene(0, 200, 150))), ctx())
    assert (outcome.status, outcome.severity) == ("fail", "medium")
    assert outcome.evidence[0].region == (0, 0, 200, 150)
    assert outcome.evidence[0].message == (
        "image is 200×150 pixels; the project's minimum is 256×256")
    assert outcome.score == pytest.approx(150 / 256, abs=0.001)


def test_resolution_uses_recorded_size_and_the_project_minimum():
    assert MinimumResolutionCheck().run(image(None, width=1024, height=768), ctx()).status == \
        "pass"
    outcome = MinimumResolutionCheck().run(image(None, width=1024, height=768),
                                           ctx(min_width=1920, min_height=1080))
    assert outcome.status == "fail"
    assert outcome.evidence[0].region == (0, 0, 1024, 768)


def test_unreadable_images_fail_with_a_clear_summary():
    for check in (MinimumResolutionCheck(), BlankImageCheck(), NearDuplicateCheck()):
        outcome = check.run(image(b"not an image"), ctx())
        assert (outcome.status, outcome.severity) == ("fail", "high")
        assert outcome.summary == "could not read the image: not an image format Pillow can read"
        truncated = check.run(image(encode(scene(0))[:300]), ctx())
        if check.id != "min-resolution":  # the size is in the header, decoding is not needed
            assert truncated.summary.startswith("could not read the image: "), check.id
        assert check.run(image(None), ctx()).status == "fail"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: signature, IHDR with a correct CRC, a tiny IDAT."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


def test_huge_images_are_refused_before_decoding():
    started = time.perf_counter()
    for size in ((8000, 8000), (20000, 20000)):
        outcome = BlankImageCheck().run(image(png_header_only(*size)), ctx())
        assert (outcome.status, outcome.severity) == ("fail", "high")
        assert "megapixel" in outcome.summary or "decompression bomb" in outcome.summary
    assert "over the 50 megapixel limit" in BlankImageCheck().run(
        image(png_header_only(8000, 8000)), ctx()).summary
    assert time.perf_counter() - started < 1


# --- blank images -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "img", "status", "severity"), [
    ("black", Image.new("RGB", (300, 300)), "fail", "high"),
    ("white with a dot", Image.new("RGB", (300, 300), "white"), "fail", "high"),
    ("grey with faint noise", grey_noise(1.0), "fail", "high"),
    ("transparent", Image.new("RGBA", (300, 300), (10, 200, 30, 0)), "fail", "high"),
    ("grey with light noise", grey_noise(6.0), "warn", "low"),
    ("subtle gradient", Image.fromarray(np.tile(np.linspace(100, 130, 300), (300, 1))
                                        .astype(np.uint8)), "warn", "low"),
    ("noise", Image.fromarray(np.random.default_rng(2).integers(0, 256, (300, 300, 3),
                                                                dtype=np.uint8)), "pass", "info"),
    ("scene", scene(0), "pass", "info"),
])
def test_blank_image(name, img, status, severity):
    if name == "white with a dot":
        ImageDraw.Draw(img).ellipse([140, 140, 150, 150], fill="black")
    outcome = BlankImageCheck().run(image(encode(img)), ctx())
    assert (outcome.status, outcome.severity) == (status, severity), outcome.summary
    if status != "pass":
        assert outcome.evidence[0].region == (0, 0, *img.size)
        assert outcome.score == outcome.evidence[0].data["std_dev"]


def test_blank_image_score_is_the_grey_spread():
    assert BlankImageCheck().run(image(encode(Image.new("L", (64, 64), 90))), ctx()).score == 0
    noisy = BlankImageCheck().run(image(encode(grey_noise(20.0))), ctx())
    assert noisy.score == pytest.approx(20.0, abs=1.0)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    gradient = np.tile(np.linspace(0, 65535, 256), (256, 1)).astype(np.uint16)
    data = encode(Image.fromarray(gradient))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    outcome = BlankImageCheck().run(image(data), ctx())
    assert outcome.status == "pass"
    assert outcome.score == pytest.approx(73.9, abs=1.0)  # a full 0–255 ramp


# --- near-duplicates ----------------------------------------------------------------------


def test_perceptual_hash_is_stable_under_resizing_and_jpeg():
    original = scene(0)
    reference = perceptual_hash(encode(original))
    assert len(reference) == 16 and int(reference, 16) >= 0
    assert perceptual_hash(encode(original)) == reference
    variant = original.resize((460, 345), Image.Resampling.BILINEAR)
    assert hamming(reference, perceptual_hash(encode(variant, "JPEG", quality=70))) <= 4
    for seed in (1, 2, 3):
        assert hamming(reference, perceptual_hash(encode(scene(seed)))) > 12


def test_hamming():
    assert hamming("0000000000000000", "ffffffffffffffff") == 64
    assert hamming("8b70334fe156e90e", "8b70334fe156e90f") == 1
    with pytest.raises(ValueError):
        hamming("not hex", "00")


def test_perceptual_hash_refuses_bad_bytes():
    with pytest.raises(ImageRefused):
        perceptual_hash(b"\x00garbage")


def test_near_duplicate_of_an_approved_image_warns():
    approved = perceptual_hash(encode(scene(0)))
    other = perceptual_hash(encode(scene(1)))
    jpeg = encode(scene(0).resize((480, 360)), "JPEG", quality=75)
    outcome = NearDuplicateCheck().run(image(jpeg), ctx(approved_image_hashes=[
        ("asset-9", other), ("asset-7", approved), ("asset-8", "zz-not-a-hash"),
        ("asset-7", other)]))  # listed twice (two approved versions): reported once
    assert (outcome.status, outcome.severity) == ("warn", "medium")
    assert len(outcome.evidence) == 1
    assert outcome.evidence[0].data["asset_id"] == "asset-7"
    assert outcome.evidence[0].data["distance"] <= DUPLICATE_MAX_DISTANCE
    assert outcome.score == outcome.evidence[0].data["distance"]
    assert outcome.metadata["phash"] == perceptual_hash(jpeg)


def test_different_image_passes_and_still_records_its_hash():
    data = encode(scene(5))
    outcome = NearDuplicateCheck().run(image(data), ctx(approved_image_hashes=[
        ("asset-7", perceptual_hash(encode(scene(0))))]))
    assert outcome.status == "pass"
    assert outcome.score > DUPLICATE_MAX_DISTANCE
    assert outcome.metadata == {"phash": perceptual_hash(data)}
    alone = NearDuplicateCheck().run(image(data), ctx())
    assert (alone.status, alone.score, alone.metadata) == ("pass", None, outcome.metadata)


def test_an_assets_own_approved_hash_is_not_a_duplicate():
    data = encode(scene(0))
    outcome = NearDuplicateCheck().run(image(data), ctx(approved_image_hashes=[
        ("asset-1", perceptual_hash(data))]))
    assert outcome.status == "pass"


# --- robustness ---------------------------------------------------------------------------

ODD_TEXT = [None, "", " \n\t ", "\x00\ufffd" * 50, "1" * 5000, "@" * 500 + "a@b",
            "+" + "1 " * 2000, "$" * 1000 + "9" * 1000, "a" * 10000,
            "DE89" + " 0" * 500, "(" * 300 + "1" * 300]
TEXT_RULES = ctx(banned_terms=[BannedTerm("cheap", ("fair",)), BannedTerm("  ")],
                 disclaimers=[Disclaimer("T&Cs apply", ("price", "percentage", "health",
                                                        "financial", "keyword:", "regex:("))],
                 min_words=1, max_words=100, max_grade=8)


def test_text_checks_never_raise_and_stay_fast():
    checks = [cls() for cls in plugin.register_checks() if cls.modalities == ("text",)]
    started = time.perf_counter()
    for value in ODD_TEXT:
        for check in checks:
            outcome = check.run(text(value), TEXT_RULES)
            assert outcome.status in CHECK_STATUSES
            assert outcome.severity in SEVERITIES
    assert time.perf_counter() - started < 3


def test_a_page_of_text_is_checked_well_under_a_second():
    page = (" ".join([SIMPLE, DENSE, "Call 020 7946 0958 or mail jo@example.com.",
                      "Only $19.99, 20% off, clinically proven, cheapest ever."]) + "\n") * 25
    checks = [cls() for cls in plugin.register_checks() if cls.modalities == ("text",)]
    started = time.perf_counter()
    outcomes = {check.id: check.run(text(page), TEXT_RULES) for check in checks}
    assert time.perf_counter() - started < 1
    assert outcomes["personal-data"].status == "fail"
    assert len(outcomes["personal-data"].evidence) == 50

