"""The content policy's vocabulary: lemmas of words that name a person under 16,
per language. The rule is the same in every language: a word is listed when
every common sense of it is a child. Words also used of adults are left out on
purpose, and listed in EXCLUDED so the choice is visible.

Lemmas are the forms each language's morphology returns (pymorphy3 for Russian
and Ukrainian, simplemma for the others), lower-case, with ё written е.
"""

from __future__ import annotations

#: English, lemmatised by WordNet's noun rules (inference/policy.py).
ENGLISH = frozenset(
    """child kid kiddie kiddo baby toddler infant newborn boy girl teen teenager preteen tween youngster
    schoolboy schoolgirl schoolchild schoolkid tot youth juvenile bairn childhood kindergartener
    kindergartner preschooler adolescent""".split()
)

RUSSIAN = frozenset(
    """ребенок ребеночек дитя дети детишки детвора малыш малышка малютка младенец грудничок новорожденный
    мальчик мальчишка мальчуган девочка девчонка девчушка подросток тинейджер школьник школьница
    дошкольник дошкольница первоклассник первоклассница кроха карапуз ребятишки""".split()
)

UKRAINIAN = frozenset(
    """дитина дитя діти дітлахи дітвора малюк малятко маля малеча немовля немовлятко хлопчик хлопчина
    хлопченя дівчинка дівча дівчатко підліток школяр школярка дошкільник""".split()
)

#: simplemma languages: ISO code -> lemmas (accents kept; matching also ignores them).
EUROPEAN: dict[str, frozenset[str]] = {
    "es": frozenset(
        "niño niña nene nena bebé chiquillo chiquilla crío adolescente colegial colegiala".split()
    ),
    "de": frozenset(
        "kind kleinkind baby säugling mädchen junge junges jungs knabe bub bube teenager jugendlicher "
        "schulkind".split()
    ),
    "fr": frozenset(
        "enfant bébé garçon fille fillette gamin gamine gosse môme nourrisson bambin ado adolescent "
        "adolescente écolier écolière".split()
    ),
    "it": frozenset(
        "bambino bambina bimbo bimba neonato neonata ragazzino ragazzina fanciullo fanciulla scolaro "
        "scolara scolare bebè adolescente".split()
    ),
    "pt": frozenset(
        "criança menino menina bebê bebé garoto garota garotinho garotinha neném nenê guri guria "
        "adolescente".split()
    ),
}

#: Lemmas that are also everyday English words ("a kind man", "much ado", "kinder
#: words"): they count only written as that language writes nouns (German
#: "Kind", capitalised) or in a text identified as that language.
SHARED_WITH_ENGLISH: dict[str, frozenset[str]] = {
    "de": frozenset({"kind"}),
    "fr": frozenset({"ado"}),
    "it": frozenset({"bimbo"}),
}

#: Left out, and why (look-alikes the tests check stay allowed).
EXCLUDED = {
    "en": "minor (minor league), son, daughter, lad, babe (used of adults); kidney, boycott, girlfriend",
    "ru": "ребята (guys), детка (endearment), сын/дочь, юноша/девушка (young adults), детектив, "
    "мальчишник (a stag party), детский (adjective: детский сад is a building)",
    "uk": "хлопець (lad), дівчина (young woman), син/донька",
    "es": "chico/chica and muchacho/muchacha (also adults), hijo/hija, cría (young animals), "
    "niñera (a nanny)",
    "de": "Kindle, Kinderwagen (a pram), Schüler (any age), junge Frau (jung: an adjective)",
    "fr": "jeune, fils (a son of any age), enfance (childhood as a time)",
    "it": "ragazzo/ragazza (also adults, boyfriend/girlfriend), bambola (a doll), neon",
    "pt": "moço/moça, miúdo (also 'small'), filho/filha",
}
