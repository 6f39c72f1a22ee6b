"""The content policy's vocabulary: words that name a person under 16, per language.

The rule is the same in every language: a word is listed when every common sense of it
is a child. Words also used of adults are left out on purpose, and listed in EXCLUDED so
the choice is visible.

- English, Russian, Ukrainian and the dictionary languages list lemmas: the forms each
  language's morphology returns (WordNet's noun rules, pymorphy3, simplemma's dictionaries),
  lower-case, with ё written е. Every inflected form of them is read (inference/policy/forms.py).
- Chinese, Japanese, Korean, Arabic and Thai list child words as they appear inside running
  text: no segmenter is needed, a word is found wherever it stands (inference/policy/scripts.py).
"""

from __future__ import annotations

#: English, lemmatised by WordNet's noun rules (inference/policy/readings.py).
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

#: simplemma's dictionary languages: ISO code (simplemma's) -> lemmas (accents kept;
#: matching also reads them typed without accents).
DICTIONARY_LANGUAGES: dict[str, frozenset[str]] = {
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
    "nl": frozenset(
        "kind kindje schoolkind kleuter peuter baby tiener zuigeling dreumes jongen jongetje meisje "
        "kleintje puber joch".split()
    ),
    "pl": frozenset(
        "dziecko dzieciak dzieciaczek dzieciątko dziewczynka dziewczę chłopiec chłopczyk chłopaczek maluch "
        "niemowlę niemowlak bobas nastolatek nastolatka przedszkolak pierwszoklasista synek córeczka".split()
    ),
    "tr": frozenset("çocuk çocukluk bebek kız kızcağız oğlan oğlancık ergen velet ufaklık".split()),
    "sv": frozenset("barn småbarn spädbarn skolbarn dagisbarn bebis flicka pojke tonåring unge".split()),
    "cs": frozenset(
        "dítě dítko děťátko holčička holka chlapec chlapeček kluk miminko batole kojenec novorozenec "
        "novorozeně školák školačka předškolák puberťák dospívající".split()
    ),
}

#: Child words simplemma files under another lemma ("peuter" under the verb "peuteren",
#: "ufaklık" under "ufak"): read as child words themselves, with their own dictionary forms.
FORMS_ALSO: dict[str, frozenset[str]] = {
    "nl": frozenset({"peuter", "puber"}),
    "tr": frozenset({"ufaklık"}),
}

#: Lemmas that are also everyday English words ("a kind man", "much ado", "a red barn"):
#: they count only written as that language writes nouns (German "Kind", capitalised) or
#: in a text identified as that language.
SHARED_WITH_ENGLISH: dict[str, frozenset[str]] = {
    "de": frozenset({"kind"}),
    "fr": frozenset({"ado"}),
    "it": frozenset({"bimbo"}),
    "nl": frozenset({"kind"}),
    "sv": frozenset({"barn"}),
}

#: Languages read by child words inside running text, normalised as inference/policy/scripts.py
#: does (Arabic letter forms unified, katakana read as hiragana, traditional Chinese as simplified).
SUBSTRINGS: dict[str, frozenset[str]] = {
    "zh": frozenset(
        """孩 儿童 童年 幼儿 幼童 婴 宝宝 娃 小朋友 少年 少女 学童 小学生 初中生 中学生 幼稚园 幼儿园 新生儿
        女童 男童""".split()
    ),
    "ja": frozenset(
        """子供 子ども こども 児童 幼児 乳児 赤ちゃん 赤ん坊 あかちゃん 赤子 少年 少女 男の子 女の子
        おとこのこ おんなのこ 男児 女児 園児 小学生 中学生 きっず べびー べいびー 幼稚園 保育園
        新生児 お子 坊や ぼうや ちびっこ 学童 子役""".split()
    ),
    "ko": frozenset(
        """아이 애들 어린이 아기 애기 아가 아동 유아 영아 소년 소녀 꼬마 초등학생 중학생 유치원 키즈
        베이비 신생아 여아 청소년""".split()
    ),
    "ar": frozenset("طفل اطفال طفوله رضيع رضع صبي ولد اولاد بنت بنات فتاه فتيات مراهق بيبي".split()),
    "th": frozenset("เด็ก ทารก วัยรุ่น เบบี้ ลูกน้อย หนูน้อย อนุบาล ประถม เยาวชน".split()),
}

#: Everyday words that hold a child word of SUBSTRINGS inside them ("아이스크림", ice cream, holds
#: "아이", a child): taken out of a text before it is searched for child words, so a child word
#: beside them is still found ("아이스크림 먹는 아이").
SUBSTRING_EXCEPTIONS: dict[str, frozenset[str]] = {
    "ko": frozenset(
        """아이스 아이폰 아이패드 아이디 아이템 아이콘 아이돌 아이라인 아이섀도 아이보리 아이언 아이슬란드
        아이맥 아이러니 아이비 아가씨 아기자기""".split()
    ),
}

#: Emoji that show a child: baby, girl, boy, child, baby angel, children crossing, baby symbol,
#: family, breast-feeding. Skin-tone modifiers follow the base emoji and family sequences hold
#: one of them (👨‍👩‍👧), so finding the base is enough; a person feeding a baby is a sequence
#: ending in a baby bottle (🧑‍🍼).
CHILD_EMOJI = frozenset("👶 👧 👦 🧒 👼 🚸 🚼 👪 🤱".split()) | {"\u200d🍼"}

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
    "nl": "meid (also a young woman), knul (a lad), zoon/dochter, leerling (any age)",
    "pl": "dziewczyna/chłopak (also adults, girlfriend/boyfriend), uczeń (any age), syn/córka",
    "tr": "genç (young, any age), yavru (young animals: köpek yavrusu is a puppy), öğrenci (any age), "
    "oğul (a son of any age)",
    "sv": "tjej/kille (also adults), grabb (a lad), ungdom (youth of any age), son/dotter",
    "cs": "dívka (also a young woman), žák (any age), syn/dcera",
    "zh": "子 alone (椅子 a chair, 帽子 a hat), 儿子/女儿 (a son or daughter of any age), "
    "学生 (any age)",
    "ja": "子 alone (椅子 a chair, 女子 a woman), 息子/娘 (any age), "
    "ガキ (がき is inside はがき, a postcard), 学生 (any age)",
    "ko": "아들/딸 (any age), 학생 (any age), 남아 (also 'remains'), 어린 alone (young)",
    "ar": "ابن/ابنة (a son or daughter of any age), صغير (small), تلميذ (any age)",
    "th": "ลูก alone (ลูกบอล a ball, ลูกค้า a customer), นักเรียน (any age), หนู alone (also a mouse)",
}
