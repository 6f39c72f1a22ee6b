"""Ages under 16 written into a query, in the languages the policy reads: "a 7-year-old",
"aged twelve", "8 лет", "zwölfjährige", "trzynastolatka", "12岁", "열두 살", "عمره 10 سنوات".

People who want a word list to miss a child write the child's age instead; an age is a
child's whatever word stands beside it. Two shapes are read:
- a number (digits, or a number word of that language) followed by a unit of years or
  months ("12 years old", "de doce años", "on iki yaşında", "12岁");
- one word made of a number and an age suffix, as German, Dutch, Swedish, Polish, Czech,
  Russian and Ukrainian write ages ("zwölfjährig", "twaalfjarige", "tolvåring",
  "dwunastolatek", "dvanáctiletá", "двенадцатилетний", "дванадцятирічна").
Words are matched folded (inference/policy/forms.py `fold`: case and accents dropped, ł as l,
ı as i), so they are read typed either way. One (a one-year-old, an annual plant) is left out
where the word also means "annual" (German "einjährig", Dutch "eenjarig", Swedish "ettårig").
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from inference.policy.forms import fold

#: Ages under this are a child's (the law's line).
ADULT_AGE = 16

#: Number words 1..15, folded, each with its value.
_NUMBERS = {
    "en": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen",
    "es": "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince",
    "it": "uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici quindici",
    "pt": "um dois tres quatro cinco seis sete oito nove dez onze doze treze catorze quinze",
    "fr": "un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze",
    "tr": "bir iki uc dort bes alti yedi sekiz dokuz on",
}
#: More spellings of those numbers: feminine forms, variants.
_NUMBER_VARIANTS = {"una": 1, "une": 1, "uma": 1, "duas": 2, "quatorze": 14}
#: Folded stems that make one age word with a suffix, 2..15 (index + 2), per language.
_STEMS = {
    "de": "zwei drei vier funf sechs sieben acht neun zehn elf zwolf dreizehn vierzehn funfzehn",
    "nl": "twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien",
    "sv": "tva tre fyra fem sex sju atta nio tio elva tolv tretton fjorton femton",
    "pl": "dwu trzy cztero piecio szescio siedmio osmio dziewiecio dziesiecio jedenasto dwunasto "
    "trzynasto czternasto pietnasto",
    "cs": "dvou tri ctyr peti sesti sedmi osmi deviti deseti jedenacti dvanacti trinacti ctrnacti patnacti",
    "ru": "двух трех четырех пяти шести семи восьми девяти десяти одиннадцати двенадцати тринадцати "
    "четырнадцати пятнадцати",
    "uk": "дво три чотири пяти шести семи восьми девяти десяти одинадцяти дванадцяти тринадцяти "
    "чотирнадцяти пятнадцяти",
}
#: The age suffix after a stem (folded). Polish "-latek", "-letni"; Czech "-letý" but not
#: "-letí" (a decade); Russian "-летний" but not "-летка" (a five-year plan) or "-летие".
_SUFFIXES = {
    "de": r"jahrig\w*",
    "nl": r"jarig\w*",
    "sv": r"ari(?:ng|g)\w*",
    "pl": r"(?:lat(?:ek|ka|ki|kow|kiem|kami|kom|kach|ce|ku)|letni\w*)",
    "cs": r"let(?:y|a|e|eho|emu|ou|ych|ym|ymi)\b",
    "ru": r"летн\w*",
    "uk": r"річн\w*",
}
#: Units of years or months after a number: English "years old", Romance "años" after "de"
#: ("una niña de doce años", not "hace dos años"), Turkish "yaşında", Russian "лет", ...
_UNITS = (
    r"(?:years?|yrs?|y)\s*[-‐ ]?\s*olds?\b|months?\s*[-‐ ]?\s*olds?\b",
    r"(?:yo|y/o|y\.o\.?)(?![^\W_])",
    r"yas\w*",  # Turkish yaş, folded
)
_CJK_NUMERALS = {ch: n for n, ch in enumerate("零一二三四五六七八九", start=0)} | {"两": 2}
_KOREAN_NATIVE = dict(zip(
    "한 두 세 네 다섯 여섯 일곱 여덟 아홉 열 열한 열두 열세 열네 열다섯".split(), range(1, 16), strict=True
))  # fmt: skip


@cache
def _number_words() -> dict[str, int]:
    words = {w: n for spelled in _NUMBERS.values() for n, w in enumerate(spelled.split(), start=1)}
    return words | _NUMBER_VARIANTS


@cache
def _patterns() -> tuple[list[re.Pattern[str]], list[re.Pattern[str]], re.Pattern[str]]:
    """(patterns over the folded text whose group 1 is a number, the same over the composed
    text for scripts folding would take apart (Hangul, Thai), the one-word pattern whose
    match is a child's age)."""
    # not the end of a longer number ("twenty-one", "otuz iki"), a word or a number of its own
    tens = "".join(rf"(?<!{ten} )" for ten in "yirmi otuz kirk elli altmis yetmis seksen doksan".split())
    words = "|".join(sorted(_number_words(), key=len, reverse=True))
    number = rf"(?<![\w‐-]){tens}(\d{{1,3}}|{words})"
    with_number = [
        re.compile(number + r"\s*[-‐ ]?\s*(?:" + "|".join(_UNITS) + ")"),
        re.compile(r"\b(?:aged?|age of|ages)\s*" + number + r"\b"),
        # digits before the unit: "8 лет", "12-летний", "8 років", "12 Jahre", "8 años", "8 ans"
        re.compile(
            r"(\d{1,3})\s*[-‐ ]?\s*(?:лет|год|года|годик\w*|летн\w*|рік|роки|років|річн\w*|jahre?\b|"
            r"jahrig\w*|jarig\w*|ar\b|arig\w*|aring\w*|lat\b|latek|latka|let\b|anos?\b|ans\b|anni\b)"
        ),  # fmt: skip
        re.compile(r"\b(?:de|di)\s+" + number + r"\s+(?:anos|ans|anni)\b"),
    ]
    composed = [
        re.compile(r"(\d{1,3}|[零一二三四五六七八九十两]{1,3})\s*(?:岁|歳|歲)"),
        re.compile(r"(\d{1,3})\s*(?:살|세)"),
        re.compile(r"(\d{1,3})\s*(?:سنة|سنوات|سنين|عام|اعوام|أعوام|شهر|شهور|اشهر|أشهر)"),
        re.compile(r"(?:อายุ)\s*(\d{1,3})"),
    ]
    stems = "|".join(
        rf"(?:{'|'.join(_STEMS[language].split())})(?:{_SUFFIXES[language]})" for language in _STEMS
    )
    return with_number, composed, re.compile(rf"(?<!\w)(?:{stems})")


def _value(number: str) -> int:
    if number in _number_words():
        return _number_words()[number]
    if number.isdigit():
        return int(number)
    return _cjk_value(number)


def _cjk_value(numerals: str) -> int:
    """十二 -> 12, 五 -> 5, 十 -> 10, 二十 -> 20 (numbers a person writes for an age)."""
    if "十" not in numerals:
        return sum(_CJK_NUMERALS.get(ch, 0) * 10**i for i, ch in enumerate(reversed(numerals)))
    tens, _, ones = numerals.partition("十")
    return (_CJK_NUMERALS.get(tens, 1) if tens else 1) * 10 + (_CJK_NUMERALS.get(ones, 0) if ones else 0)


def names_a_child_age(text: str) -> bool:
    """True when `text` gives someone an age under 16, in digits or in words, in a language
    the policy reads (months: any number of them is a baby)."""
    folded = fold(text).replace("'", "").replace("’", "")  # Ukrainian "п'яти"
    composed = unicodedata.normalize("NFKC", text)
    with_number, in_composed, one_word = _patterns()
    if one_word.search(folded) or re.search(r"months?\s*[-‐ ]?\s*olds?\b", folded):
        return True
    searches = [(pattern, folded) for pattern in with_number] + [(p, composed) for p in in_composed]
    if any(_value(m.group(1)) < ADULT_AGE for pattern, where in searches for m in pattern.finditer(where)):
        return True
    return any(f"{word} 살" in composed or f"{word}살" in composed for word in _KOREAN_NATIVE)
