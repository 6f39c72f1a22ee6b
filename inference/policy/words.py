"""The content policy's vocabulary: words that name a person under 16, per language.

The rule is the same in every language: a word is listed when every common sense of it
is a child, or when in a photo it nearly always is (a grandchild beside a grandparent; the
adjectives "children's", детский, dětský; a nursery). Words also used of adults are left
out on purpose, and listed in EXCLUDED so the choice is visible.

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
    kindergartner preschooler adolescent grandchild grandson granddaughter grandkid grandbaby""".split()
)

RUSSIAN = frozenset(
    """ребенок ребеночек дитя дети детишки детвора малыш малышка малютка младенец грудничок новорожденный
    мальчик мальчишка мальчуган девочка девчонка девчушка подросток тинейджер школьник школьница
    дошкольник дошкольница первоклассник первоклассница первоклашка кроха карапуз ребятишки сынишка
    сыночек дочурка детский внук внучка внучок""".split()
)

UKRAINIAN = frozenset(
    """дитина дитя діти дітлахи дітвора малюк малятко маля малеча немовля немовлятко хлопчик хлопчина
    хлопченя дівчинка дівча дівчатко підліток школяр школярка дошкільник першокласник першокласниця
    новонароджений синочок донечка дитячий онук онука онучок""".split()
)

#: simplemma's dictionary languages: ISO code (simplemma's) -> lemmas (accents kept;
#: matching also reads them typed without accents).
DICTIONARY_LANGUAGES: dict[str, frozenset[str]] = {
    "es": frozenset(
        "niño niña nene nena bebé chiquillo chiquilla crío adolescente colegial colegiala hijito "
        "hijita nieto nieta infantil guardería".split()
    ),
    "de": frozenset(
        "kind kleinkind baby säugling mädchen junge junges jungs knabe bub bube teenager jugendlicher "
        "schulkind grundschüler grundschülerin erstklässler erstklässlerin neugeborenes neugeborener "
        "söhnchen töchterchen enkel enkelin enkelkind kita".split()
    ),
    "fr": frozenset(
        "enfant bébé garçon fille fillette gamin gamine gosse môme nourrisson bambin ado adolescent "
        "adolescente écolier écolière enfantin enfantine".split()
    ),
    "it": frozenset(
        "bambino bambina bimbo bimba neonato neonata ragazzino ragazzina fanciullo fanciulla scolaro "
        "scolara scolare bebè adolescente figlioletto figlioletta nipotino nipotina".split()
    ),
    "pt": frozenset(
        "criança menino menina bebê bebé garoto garota garotinho garotinha neném nenê guri guria "
        "adolescente molecada neto neta infantil creche".split()
    ),
    "nl": frozenset(
        "kind kindje schoolkind kleuter peuter baby tiener zuigeling dreumes jongen jongetje meisje "
        "kleintje puber joch koter kindertje kleinkind kleinzoon kleindochter kinderdagverblijf".split()
    ),
    "pl": frozenset(
        "dziecko dzieciak dzieciaczek dzieciątko dziewczynka dziewczę chłopiec chłopczyk chłopaczek maluch "
        "niemowlę niemowlak bobas nastolatek nastolatka przedszkolak pierwszoklasista synek córeczka "
        "noworodek wnuk wnuki wnuczka wnuczek dziecięcy przedszkole brzdąc".split()
    ),
    "tr": frozenset(
        "çocuk çocukluk bebek kız kızcağız oğlan oğlancık ergen velet ufaklık torun kreş".split()
    ),
    "sv": frozenset(
        "barn småbarn spädbarn skolbarn dagisbarn förskolebarn bebis flicka pojke tonåring unge nyfödd "
        "lågstadieelev mellanstadieelev barnkalas barnbarn dagis knatte".split()
    ),
    "cs": frozenset(
        "dítě dítko děťátko holčička holka chlapec chlapeček kluk miminko batole kojenec novorozenec "
        "novorozeně školák školačka školáci předškolák puberťák dospívající prvňák prvňáček prvňáčci děcko "
        "synáček dcerka vnuk vnučka vnouče dětský školka".split()
    ),
}

#: Child words simplemma files under another lemma ("peuter" under the verb "peuteren",
#: "ufaklık" under "ufak"): read as child words themselves, with their own dictionary forms.
FORMS_ALSO: dict[str, frozenset[str]] = {
    "nl": frozenset({"peuter", "puber", "zoontje", "zoontjes", "dochtertje", "dochtertjes"}),
    "pt": frozenset({"filhinho", "filhinhos", "filhinha", "filhinhas"}),
    "cs": frozenset({"dceruška", "dcerušky"}),
    "tr": frozenset({"ufaklık"}),
}

#: Languages that write compound nouns as one word ("Peutermeisje", a toddler girl; "tonårspojke"):
#: a word ending in a child form of at least COMPOUND_TAIL letters is read as a child word.
COMPOUNDING = frozenset({"de", "nl", "sv"})
COMPOUND_TAIL = 5

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
        """孩 儿童 童年 幼儿 幼童 婴 宝宝 娃 小朋友 少年 少女 学童 小学 初中生 中学生 幼稚园 幼儿园 新生儿
        女童 男童 年级 孙子 孙女 孙儿 外孙 托儿所""".split()
    ),
    "ja": frozenset(
        """子供 子ども こども 児童 幼児 乳児 赤ちゃん 赤ん坊 あかちゃん 赤子 少年 少女 男の子 女の子
        おとこのこ おんなのこ 男児 女児 園児 小学 中学生 きっず べびー べいびー 幼稚園 保育園
        新生児 お子 坊や ぼうや ちびっこ 学童 子役 幼い 孫 七五三 保育所""".split()
    ),
    "ko": frozenset(
        """아이 애들 어린이 아기 애기 아가 아동 유아 영아 소년 소녀 꼬마 초등 중학생 유치원 키즈
        베이비 신생아 여아 청소년 학년 손주 손자 손녀 초딩 중딩""".split()
    ),
    "ar": frozenset(
        "طفل اطفال طفوله رضيع رضع صبي ولد اولاد بنت بنات فتاه فتات فتيات مراهق بيبي مولود ابتدائي حفيد احفاد"
        .split()
    ),
    "th": frozenset("เด็ก ทารก วัยรุ่น เบบี้ ลูกน้อย หนูน้อย อนุบาล ประถม เยาวชน ขวบ หลาน".split()),
}

#: Phrases that name children in words each also used otherwise ("recién nacido", a newborn;
#: "de primaria", of primary school), as regular expressions over the folded text
#: (inference/policy/forms.py `fold`: no case, no accents, ł as l).
PHRASES: dict[str, tuple[str, ...]] = {
    "en": (r"\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|[1-9](?:st|nd|rd|th))[- ]?grade"
           r"(?:rs?)?\b",
           r"\bgrade [1-9]\b",
           r"\b(?:primary|elementary)[- ]school(?:ers?\b|\s+(?:pupils?|students?|kids)\b)",
           r"\b(?:little|baby|infant|toddler|small) (?:sons?|daughters?)\b"),
    "es": (r"\brecien nacid[oa]s?\b", r"\b(?:alumn|estudiant|escolar)\w* de primaria\b"),
    "pt": (r"\brecem[- ]nascid[oa]s?\b", r"\bensino fundamental\b"),
    "it": (r"\b(?:scuola|scuole) (?:elementar[ei]|primari[ae])\b", r"\balunni\b.*\b(?:elementar|primari)",
           r"\basilo nido\b"),
    "fr": (r"\bnouveaux?[- ]nes?\b", r"\b(?:cp|ce1|ce2|cm1|cm2)\b", r"\bpetite?s?[- ](?:fils|filles?)\b",
           r"\b(?:creche|maternelle)\b",
           r"\b(?:eleves?|ecoliers?) de (?:primaire|maternelle)\b"),
    "de": (r"\bgrundschul\w*", r"\bkindergarten\w*"),
    "nl": (r"\bbasisschool\w*", r"\bgroep [1-8]\b"),
    "sv": (r"\blagstadie\w*", r"\bmellanstadie\w*", r"\bforskole\w*", r"\bbarnkalas\w*",
           r"\barskurs [1-9]\b"),
    "pl": (r"\bpierwszoklasi\w*", r"\buczni\w* (?:pierwsz|drug|trzeci)\w* klas\w*",
           r"\bszkol\w* podstawow\w*"),
    "cs": (r"\bprvnac\w*", r"\bzakladn\w* skol\w*"),
    "tr": (r"\bilkokul\w*", r"\byeni dogan\w*", r"\banaokul\w*"),
    "ru": (r"\bмладш\w* школ\w*", r"\bначальн\w* школ\w*"),
    "uk": (r"\bпочатков\w* школ\w*", r"\bмолодш\w* школ\w*"),
    "th": (r"(?:ป|ม)\.\s*[1-6]\b",),
}  # fmt: skip

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
    "мальчишник (a stag party)",
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
