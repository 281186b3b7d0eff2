"""Product and company names in a sentence, so a claim is tied to the product it is about."""

from __future__ import annotations

import re
from collections.abc import Iterable

from plugins.factuality.sentences import split_sentences

#: Capitalised words that start a sentence or a clause without naming anything.
COMMON_CAPITALISED = frozenset("""
the a an our we you your it its this that these those with in on at for from by to and but
or so if when while as all every each any why how what who where meet try get start join
discover see learn find explore download sign book say talk ask contact visit call read
here there thanks thank now new introducing use make give let upgrade stay ready questions
one since after before during compared about more less over up just
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday spring summer autumn fall winter
""".split())
NAME_TOKEN = r"[A-Z][A-Za-z0-9&'’-]*"
NAME_RE = re.compile(r"(?<![\w-])" + NAME_TOKEN + r"(?:\s+" + NAME_TOKEN + r")+")


def is_heading(sentence: str) -> bool:
    """Whether the sentence is a Title Case heading without closing punctuation."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", sentence)
    if len(words) < 3 or sentence.rstrip()[-1:] in ".!?":
        return False
    caps = [w for w in words if w[0].isupper() or w.lower() in ("a", "an", "the", "of", "and",
                                                                "for", "to", "in", "on", "with")]
    return len(caps) / len(words) >= 0.8


def find_names(sentence: str, known: Iterable[str] = (), offset: int = 0) -> list[
        tuple[str, int, int]]:
    """Product and company names: known ones anywhere, else runs of capitalised words.

    A run at the start of a sentence counts only from its second word when the first is
    an ordinary word ("With", "Our"); headings in Title Case yield only known names.
    """
    out: list[tuple[str, int, int]] = []
    for name in sorted(set(known), key=len, reverse=True):
        for m in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", sentence):
            if not any(s <= offset + m.start() < e for _, s, e in out):
                out.append((name, offset + m.start(), offset + m.end()))
    if not is_heading(sentence):
        for m in NAME_RE.finditer(sentence):
            tokens = [(t.group(), m.start() + t.start(), m.start() + t.end())
                      for t in re.finditer(r"\S+", m.group())]
            while tokens and tokens[0][0].lower() in COMMON_CAPITALISED:
                tokens.pop(0)
            while tokens and tokens[-1][0].lower() in COMMON_CAPITALISED:
                tokens.pop()
            if len(tokens) < 2:
                continue
            start, end = tokens[0][1], tokens[-1][2]
            if re.search(r"['’]s$", sentence[start:end]):
                end -= 2
            if any(a < offset + end and offset + start < b for _, a, b in out):
                continue
            out.append((" ".join(sentence[start:end].split()), offset + start, offset + end))
    return sorted(out, key=lambda n: n[1])

def names_in_facts(statements: Iterable[str]) -> list[str]:
    """Names the approved facts use, so a claim can be tied to the product it is about."""
    names: set[str] = set()
    for statement in statements:
        for sentence in split_sentences(statement):
            names.update(name for name, _, _ in find_names(sentence.text))
    return sorted(names)


def same_product(a: str, b: str) -> bool:
    """Whether two names refer to the same thing ("Nimbus Sync" and "Nimbus Sync Team")."""
    ta, tb = a.lower().split(), b.lower().split()
    shorter, longer = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return longer[: len(shorter)] == shorter
