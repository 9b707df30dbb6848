"""Instructions aimed at an AI reviewer: one table of phrases, checked on hidden text (any
phrase), on visible text, preamble metadata and bibliography fields (only the phrases marked
`anywhere`: they are instructions to a model wherever they appear, while an ordinary paper about
language models may well say "as an AI assistant" in its prose).

Patterns are regular expressions, case-insensitive; one row per phrase and language, so a new
attack wording is one line here. Non-English rows cover the languages seen in injection attempts
on submitted papers (German, French, Spanish, Portuguese, Italian, Russian, Chinese, Japanese,
Korean); in hidden text any of them is an injection.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class InstructionPhrase(NamedTuple):
    language: str
    pattern: str
    anywhere: bool  # an instruction to a model even in visible text


_PAPER = r"(?:this|the|our)\s+(?:paper|submission|manuscript|work|article)"

INSTRUCTION_PHRASES: tuple[InstructionPhrase, ...] = (
    # -- English: explicit overrides and demands, instructions anywhere -----------------------
    InstructionPhrase(
        "en",
        r"\bignore\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|preceding|other)\s+(?:instructions|prompts|directions|rules)",
        True,
    ),
    InstructionPhrase(
        "en",
        r"\bdisregard\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts)",
        True,
    ),
    InstructionPhrase(
        "en", r"\bforget\s+(?:all\s+|your\s+)?(?:previous|prior)\s+instructions", True
    ),
    InstructionPhrase(
        "en",
        rf"\bgive\s+(?:{_PAPER}\s+)?(?:a\s+|an\s+|only\s+)?(?:very\s+|highly\s+|strongly\s+|glowing(?:ly)?\s+)?positive\s+review",
        True,
    ),
    InstructionPhrase("en", r"\bpositive\s+review\s+only\b", True),
    InstructionPhrase(
        "en",
        r"\bnote\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:reviewing\s+(?:language\s+)?models?|(?:automated\s+)?(?:ai|llm|language\s+model|assistant)s?(?:\s+reviewers?)?)\b",
        True,
    ),
    InstructionPhrase("en", r"\bnote\s+(?:to|for)\s+(?:the\s+)?automated\s+reviewers?\b", True),
    InstructionPhrase("en", r"\b(?:for|to)\s+(?:ai|llm)\s+reviewers?\b", True),
    InstructionPhrase("en", r"\binclude\s+both\s+the\s+phrases\b", True),
    InstructionPhrase(
        "en",
        r"\bas\s+an?\s+(?:ai|llm|language[\s-]model)(?:[\s-]based)?\s+reviewer\s*,?\s+(?:you\s+)?(?:must|should|shall|have\s+to|are\s+(?:required|instructed))\b",
        True,
    ),
    InstructionPhrase(
        "en",
        rf"\b(?:give|assign|award)\s+{_PAPER}\s+(?:a\s+|the\s+)?(?:rating|score)\s+of\s+(?:10|ten|5\s*/\s*5)\b",
        True,
    ),
    # -- English: softer wording and reviewer framing, hidden text only ----------------------
    InstructionPhrase(
        "en",
        r"\b(?:give|assign|award)\s+it\s+(?:a\s+|an\s+)?(?:(?:very\s+)?positive\s+(?:review|evaluation|assessment)|(?:rating|score)\s+of\s+(?:10|ten|9|nine))\b",
        False,
    ),
    InstructionPhrase(
        "en",
        r"\bgive\s+(?:a\s+|an\s+)?(?:very\s+|highly\s+)?positive\s+(?:evaluation|assessment)",
        False,
    ),
    InstructionPhrase(
        "en",
        r"\bdo\s+not\s+(?:highlight|mention|point\s+out|discuss)\s+(?:any\s+)?(?:negatives|weaknesses|flaws|limitations)",
        False,
    ),
    InstructionPhrase("en", r"\bas\s+an?\s+(?:large\s+)?language\s+model\b", False),
    InstructionPhrase("en", r"\bas\s+an?\s+ai\b(?:\s+(?:reviewer|assistant|model))?", False),
    InstructionPhrase(
        "en",
        rf"\brecommend\s+(?:accepting|acceptance\s+of|to\s+accept)\s+{_PAPER}",
        False,
    ),
    InstructionPhrase(
        "en", r"\b(?:you\s+should|you\s+must|please)\s+(?:recommend|accept|rate|score)\b", False
    ),
    InstructionPhrase("en", r"\bin\s+your\s+review\b", False),
    InstructionPhrase(
        "en", r"\byou\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|reviewer)\b", False
    ),
    InstructionPhrase("en", r"\bnew\s+instructions?\s*:", False),
    InstructionPhrase("en", r"\bsystem\s+prompt\b", False),
    InstructionPhrase(
        "en",
        rf"\b(?:rate|score|evaluate|grade|assess)\s+(?:it|{_PAPER})\s+(?:as\s+)?(?:highly|high|favou?rably|generously|positively|well|\d)",
        False,
    ),
    InstructionPhrase("en", r"\breviewing\s+(?:language\s+model|llm|ai|assistant)\b", False),
    # -- other languages: hidden text only ------------------------------------------------
    InstructionPhrase(
        "de",
        r"\bignorier\w*\s+(?:sie\s+)?(?:alle\s+)?(?:vorherigen|bisherigen|früheren|obigen|vorigen)\s+(?:anweisungen|instruktionen|befehle)",
        False,
    ),
    InstructionPhrase(
        "de", r"\bpositive\s+(?:bewertung|rezension|begutachtung|beurteilung|kritik)", False
    ),
    InstructionPhrase("de", r"\bempfiehl\w*\s+(?:sie\s+)?(?:die\s+)?annahme\b", False),
    InstructionPhrase(
        "fr",
        r"\bignore[zr]?\s+(?:toutes\s+)?(?:les\s+)?instructions\s+(?:précédentes|antérieures|ci-dessus)",
        False,
    ),
    InstructionPhrase(
        "fr", r"\b(?:critique|évaluation|revue|avis|relecture)\s+(?:très\s+)?positi(?:ve|f)", False
    ),
    InstructionPhrase("fr", r"\brecommande[rz]?\s+l['’]acceptation", False),
    InstructionPhrase(
        "es",
        r"\bignor[ae]\w*\s+(?:todas\s+)?las\s+instrucciones\s+(?:anteriores|previas)",
        False,
    ),
    InstructionPhrase(
        "es", r"\b(?:reseña|revisión|evaluación|crítica)\s+(?:muy\s+)?positiva", False
    ),
    InstructionPhrase("es", r"\brecomiend\w*\s+(?:la\s+)?aceptaci[oó]n", False),
    InstructionPhrase("pt", r"\bignor\w*\s+(?:todas\s+)?as\s+instruções\s+anteriores", False),
    InstructionPhrase(
        "pt", r"\b(?:avaliação|revisão|crítica|parecer)\s+(?:muito\s+)?positiv[ao]", False
    ),
    InstructionPhrase("it", r"\bignora\w*\s+(?:tutte\s+)?le\s+istruzioni\s+precedenti", False),
    InstructionPhrase(
        "it", r"\b(?:recensione|valutazione|revisione)\s+(?:molto\s+)?positiva", False
    ),
    InstructionPhrase(
        "ru", r"игнориру\w*\s+(?:все\s+)?(?:предыдущие|прежние|вышеуказанные)\s+инструкции", False
    ),
    InstructionPhrase("ru", r"положительн\w*\s+(?:отзыв|рецензи|оценк)", False),
    InstructionPhrase(
        "zh", r"忽略(?:之前|以前|先前|上述|前面|所有)[^。]{0,6}(?:指令|指示|说明|提示)", False
    ),
    InstructionPhrase("zh", r"(?:正面|积极|好|高)的?(?:评价|评审|审稿意见|评分)", False),
    InstructionPhrase("ja", r"(?:以前|前|これまで|上記)の(?:すべての)?指示を無視", False),
    InstructionPhrase("ja", r"(?:肯定的|好意的|高)な?(?:評価|レビュー)", False),
    InstructionPhrase("ko", r"이전\s*(?:의\s*)?(?:모든\s*)?지시(?:사항)?(?:을|를)?\s*무시", False),
    InstructionPhrase("ko", r"긍정적인\s*(?:리뷰|평가|심사)", False),
)


class _Row(NamedTuple):
    fast: re.Pattern[str]  # the pattern without its leading \b, for lower-cased text
    word_start: bool  # the pattern began with \b: checked by hand after a match
    any_case: re.Pattern[str]  # the whole pattern, case-insensitive (the slow path)


def _compile(row: InstructionPhrase) -> _Row:
    # Python's re scans fast for a pattern that starts with a literal and has no IGNORECASE:
    # one pattern per row on lower-cased text is ~7x faster than one case-insensitive
    # alternation of \b-led rows (350 ms -> 47 ms on a 376 KB paper).
    word_start = row.pattern.startswith(r"\b")
    fast = re.compile(row.pattern[2:] if word_start else row.pattern)
    return _Row(fast, word_start, re.compile(row.pattern, re.I))


_ALL_ROWS = [_compile(row) for row in INSTRUCTION_PHRASES]
_ANYWHERE_ROWS = [r for r, row in zip(_ALL_ROWS, INSTRUCTION_PHRASES, strict=True) if row.anywhere]


def _spans(text: str, rows: list[_Row], first_only: bool) -> list[tuple[int, int]]:
    low = text.lower()
    # a character whose lower case is longer (U+0130) shifts offsets: search the original
    exact = len(low) == len(text)
    found: list[tuple[int, int]] = []
    for row in rows:
        for m in row.fast.finditer(low) if exact else row.any_case.finditer(text):
            at = m.start()
            if exact and row.word_start and at and (low[at - 1].isalnum() or low[at - 1] == "_"):
                continue
            found.append(m.span())
            if first_only:
                return found
    found.sort()
    kept: list[tuple[int, int]] = []
    for a, b in found:  # like one alternation: leftmost, never overlapping
        if not kept or a >= kept[-1][1]:
            kept.append((a, b))
    return kept


def injection_matches(text: str, anywhere_only: bool = False) -> list[tuple[int, int]]:
    """Spans of instruction-like phrases aimed at an AI reviewer. `anywhere_only` keeps the
    phrases that are instructions anywhere (checked on visible text too)."""
    return _spans(text, _ANYWHERE_ROWS if anywhere_only else _ALL_ROWS, first_only=False)


def looks_like_injection(text: str) -> bool:
    return bool(_spans(text, _ALL_ROWS, first_only=True))
