"""Words: stopwords, synonym folding and a crude stem, so short contexts can be compared.

Also the comparative words ("faster", "cheaper") and the words that only look like them,
which both the figure reader and the comparison finder need.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be been being both but by can
could did do does doing down during each even ever every few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no
nor not now of off on once only or other our ours out over own per same she should so some
such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you
your yours yourself us get gets got new now one make makes made let lets via within
""".split())

#: Words folded together so that a paraphrase shares context with the approved wording.
SYNONYMS = {
    "quicker": "fast", "quick": "fast", "quickly": "fast", "faster": "fast", "fastest": "fast",
    "speedy": "fast", "speedier": "fast", "speed": "fast", "rapid": "fast", "quickest": "fast",
    "less": "decrease", "fewer": "decrease", "reduce": "decrease", "cut": "decrease",
    "lower": "decrease", "save": "decrease", "saving": "decrease", "drop": "decrease",
    "more": "increase", "increase": "increase", "boost": "increase", "higher": "increase",
    "raise": "increase", "grow": "increase",
    "client": "customer", "buyer": "customer", "subscriber": "customer",
    "seat": "user", "member": "user", "people": "user", "person": "user",
    "company": "organisation", "organization": "organisation", "business": "organisation",
    "brand": "organisation",
    "upload": "transfer", "download": "transfer", "move": "transfer", "send": "transfer",
    "big": "large", "bigger": "large", "larger": "large", "huge": "large",
    "nation": "country",
    "update": "refresh", "reload": "refresh",
    "found": "start", "founded": "start", "establish": "start", "established": "start",
    "launch": "start", "launched": "start", "since": "start", "begin": "start",
    "release": "start", "released": "start", "start": "start", "started": "start",
    "debut": "start", "introduce": "start", "introduced": "start",
    "cost": "price", "priced": "price", "pricing": "price", "charge": "price",
    "history": "version", "restore": "recover", "recovery": "recover",
    "app": "application", "tool": "application", "integration": "application",
    "certified": "certify", "certification": "certify", "certificate": "certify",
}

#: Context words that only say which way a number goes; they do not name what it measures.
DIRECTION_WORDS = frozenset({"increase", "decrease", "fast"})

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def stem(word: str) -> str:
    """A crude English stem plus synonym folding: enough to compare short contexts."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    if w in SYNONYMS:
        return SYNONYMS[w]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith(("sses", "shes", "ches", "xes")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w in SYNONYMS:
        return SYNONYMS[w]
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            base = w[: -len(suffix)]
            if base in SYNONYMS:
                return SYNONYMS[base]
            if base + "e" in SYNONYMS:
                return SYNONYMS[base + "e"]
    return SYNONYMS.get(w, w)


def content_words(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) for every non-stopword word of ``text``."""
    out = []
    for m in WORD_RE.finditer(text):
        if m.group().lower() in STOPWORDS:
            continue
        out.append((stem(m.group()), m.start(), m.end()))
    return out

COMPARATIVE_GROUPS = {
    "fast": "faster quicker speedier", "cheap": "cheaper", "good": "better superior",
    "easy": "easier simpler", "secure": "safer", "small": "smaller lighter slimmer",
    "large": "larger bigger", "strong": "stronger", "smart": "smarter", "reliable": "",
    "increase": "higher", "decrease": "lower", "bad": "worse",
}
COMPARATIVE_WORDS = {w: g for g, words in COMPARATIVE_GROUPS.items() for w in words.split()}
NOT_COMPARATIVE = frozenset({"rather", "other", "whether", "never", "ever", "under", "over",
                             "after", "later", "either", "neither", "order", "number", "user",
                             "customer", "power", "together", "sooner", "longer", "further",
                             "fewer"})
