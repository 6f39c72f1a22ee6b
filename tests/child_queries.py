"""Child queries the policy tests read: in other languages, disguised as people type them,
and harmless look-alikes that must still be searched (tests/inference/test_policy_*.py)."""

#: In the policy's other languages.
CHILD_QUERIES = [
    "дети играют в парке",
    "маленькая девочка на качелях",
    "ребёнок в бассейне",
    "мальчик с собакой на пляже",
    "малыши в песочнице",
    "школьники идут по улице",
    "діти граються у снігу",
    "niños jugando en la playa",
    "Kinder spielen im Schnee",
    "des enfants dans un parc",
    "bambini al parco giochi",
    "crianças brincando na praia",
]
DISGUISED = ["ki\u200bds playing", "a gi\u00adrl on a swing", "\u0441hild on a slide", "д\u0065ти в парке"]

#: The six from the issue first, then more of each kind.
TYPED_AS_PEOPLE_DO = [
    "k1ds playing in the sand",
    "c h i l d r e n at the beach",
    "deti v parke",
    "ninos jugando en la playa",
    "two lads aged 12 playing football",
    "a little one on a tricycle",
    "a b0y on a skateboard",
    "g1rls dancing in the rain",
    "ch!ld with a red balloon",
    "k.i.d.s on a trampoline",
    "b o y s swimming in a lake",
    "malchik s sobakoy",
    "devochka na velosipede",
    "rebyonok spit",
    "mal'chiki igrayut v futbol",
    "khlopchyk na richtsi",
    "ditey u sadku",
    "divchynka z kotom",
    "ninas en el parque",
    "bebes durmiendo en la cama",
    "criancas brincando na praia",
    "Maedchen im Schnee",
    "a 7-year-old on a swing",
    "my 10 year old son at the zoo",
    "a 5 yo eating ice cream",
    "twelve-year-old twins",
    "мальчику 8 лет",
    "niños de 8 años",
    "a 6-month-old sleeping",
    "the wee ones in the garden",
    "minors drinking at a party",
]
#: Each must still be searched: adults' ages, everyday words that share a skeleton or letters.
HARMLESS = [
    "a man aged 40 on a bench",
    "a 30-year-old woman running",
    "5 years ago in Paris",
    "a minor league baseball game",
    "a detective reads a newspaper",
    "mala suerte",
    "a male runner",
    "people dine outdoors at a lodge",
    "B0ston at night",
    "route 66 in the desert",
    "a 4x4 truck in the mud",
    "blue sky over the sea",
    "eine junge Frau lacht",
    "the little house on the hill",
]

#: The issue's (43) queries that were searched before the policy read their language, then
#: one more of ours per language; all must be refused.
NEW_LANGUAGES = [
    "dzieci w parku",
    "mała dziewczynka z psem",
    "parkta oynayan çocuklar",
    "kinderen spelen op het strand",
    "een peuter op een schommel",
    "小女孩和狗",
    "公園で遊ぶ子供たち",
    "해변에서 노는 아이들",
    "أطفال يلعبون في الحديقة",
    "เด็กเล่นที่ชายหาด",
    "barn som leker på stranden",
    "dítě na pískovišti",
    "chłopcy grają w piłkę",
    "bebekler uyuyor",
    "meisjes op de fiets",
    "flickor som badar",
    "holčička s balónkem",
    "儿童在游泳池",
    "赤ちゃんが寝ている",
    "어린이 생일 파티",
    "طفلة على الأرجوحة",
    "ทารกนอนหลับ",
    "👧 on a swing",
]
#: Harmless queries in those languages: a dog in the snow, a man on a bicycle, a red barn.
HARMLESS_NEW_LANGUAGES = [
    "pies na śniegu", "mężczyzna na rowerze", "czerwona stodoła",
    "een hond in de sneeuw", "een man op een fiets", "een rode schuur",
    "karda bir köpek", "bisikletli bir adam", "kırmızı bir ahır",
    "en hund i snön", "en man på en cykel", "en röd lada",
    "pes ve sněhu", "muž na kole", "červená stodola",
    "雪地里的狗", "骑自行车的男人", "红色的谷仓",
    "雪の中の犬", "自転車に乗った男性", "赤い納屋",
    "눈 속의 개", "자전거를 탄 남자", "빨간 헛간",
    "كلب في الثلج", "رجل على دراجة", "حظيرة حمراء",
    "สุนัขในหิมะ", "ผู้ชายขี่จักรยาน", "โรงนาสีแดง",
    "a red barn", "a kind old man", "아이스크림을 먹는 남자",
]  # fmt: skip
#: Scripts no reading covers: Georgian, Hindi (Devanagari), Amharic (Ethiopic), Hebrew, Greek.
UNREADABLE = ["ძაღლი თოვლში", "बर्फ में कुत्ता", "ውሻ በበረዶ ውስጥ", "כלב בשלג", "σκύλος στο χιόνι"]
