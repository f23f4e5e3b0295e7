"""What customers say to the bot, per language, and what the bot says back.

Pure: no database. Recognising intent is deliberately simple and predictable — word lists per language
matched on normalised text (case-folded, accents folded, Azerbaijani letters mapped to Latin ones, Thai
matched as substrings because Thai has no spaces between words). Latin-script words match at the start
of a word so inflected and agglutinated forms count too ("Mitarbeiterin", "operatorla", "insanla").

Everything the bot says is a gettext string; callers render it in the customer's language with
``translation.override(lang)``.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

SUPPORTED_LANGUAGES = ("en", "th", "it", "de", "az")

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_AZ_LETTERS = str.maketrans({"ə": "e", "ı": "i", "ş": "s", "ç": "c", "ğ": "g", "ö": "o", "ü": "u", "ß": "ss"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Case-folded text with accents removed and Azerbaijani/German letters mapped; Thai left as is."""
    text = unicodedata.normalize("NFKC", text or "").casefold().translate(_AZ_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    # Drop combining marks of Latin letters only: Thai vowels and tone marks are combining marks too.
    kept = [ch for i, ch in enumerate(decomposed) if not (unicodedata.combining(ch) and not _THAI.match(ch))]
    return unicodedata.normalize("NFC", "".join(kept))


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def has_thai(text: str) -> bool:
    return bool(_THAI.search(text or ""))


def _matches(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether any phrase occurs in the text: Thai as a substring, other phrases as word prefixes in order."""
    norm = normalise(text)
    tokens = _WORD.findall(norm)
    for phrase in phrases:
        if has_thai(phrase):
            if phrase.replace(" ", "") in norm.replace(" ", ""):
                return True
            continue
        wanted = _WORD.findall(normalise(phrase))
        if not wanted:
            continue
        for start in range(len(tokens) - len(wanted) + 1):
            window = tokens[start : start + len(wanted)]
            # Every word but the last must match exactly; the last may be inflected (a prefix match) when it
            # is long enough to mean something on its own ("no" must not match "now").
            last, want = window[-1], wanted[-1]
            if window[:-1] == wanted[:-1] and (last == want or (len(want) >= 4 and last.startswith(want))):
                return True
    return False


# Asking for a person, in every supported language. Keep entries specific: a false positive hands over.
HANDOVER_PHRASES = (
    # English
    "human", "agent", "operator", "representative", "real person", "a person", "live person",
    "talk to someone", "speak to someone", "speak with someone", "talk with someone", "customer service",
    # Thai
    "คุยกับพนักงาน", "พนักงาน", "เจ้าหน้าที่", "คนจริง", "ขอคุยกับคน", "ติดต่อแอดมิน", "แอดมิน",
    # Italian
    "operatore", "operatrice", "umano", "persona reale", "una persona", "parlare con qualcuno",
    "assistente umano",
    # German
    "mitarbeiter", "mensch", "menschen", "berater", "echte person", "einer person", "kundendienst",
    "kundenservice",
    # Azerbaijani (letters folded: əməkdaş → emekdas, nümayəndə → numayende, işçi → isci)
    "insan", "emekdas", "numayende", "canli operator", "isci",
)

NEGATIVE_PHRASES = (
    "no", "nope", "not helpful", "didn't help", "did not help", "doesn't help", "does not help", "wrong",
    "not what", "useless", "none",
    "ไม่ใช่", "ไม่ช่วย", "ไม่ได้ช่วย", "ไม่ตรง", "ไม่มี",
    "non mi aiuta", "non aiuta", "non è", "sbagliato", "nessuno", "nessuna",
    "nein", "hilft nicht", "nicht hilfreich", "falsch", "keiner", "keine davon",
    "yox", "xeyr", "komek etmedi", "kömək etmədi", "heç biri", "hec biri",
)

POSITIVE_PHRASES = (
    "thanks", "thank you", "yes", "great", "perfect", "that helped", "solved",
    "ขอบคุณ", "ใช่", "ได้แล้ว",
    "grazie", "perfetto", "risolto",
    "danke", "super", "perfekt", "hat geholfen",
    "tesekkur", "sag ol", "sagol", "beli", "hə", "oldu",
)

GREETING_PHRASES = (
    "hi", "hello", "hey", "good morning", "good afternoon", "good evening",
    "สวัสดี", "หวัดดี",
    "ciao", "buongiorno", "buonasera", "salve",
    "hallo", "guten tag", "guten morgen", "moin", "servus",
    "salam", "sabahiniz xeyir", "gununuz xeyir",
)

SKIP_PHRASES = (
    "skip", "don't know", "dont know", "do not know", "don't have", "dont have", "no idea",
    "ข้าม", "ไม่ทราบ", "ไม่รู้", "ไม่มี",
    "salta", "non lo so", "non ce l'ho", "non ho",
    "überspringen", "weiss nicht", "weiß nicht", "habe keine", "hab keine",
    "kec", "keç", "bilmirem", "bilmirəm", "yoxdur",
)


def wants_human(text: str) -> bool:
    return _matches(text, HANDOVER_PHRASES)


def is_negative(text: str) -> bool:
    return _matches(text, NEGATIVE_PHRASES)


def is_positive(text: str) -> bool:
    return _matches(text, POSITIVE_PHRASES) and not is_negative(text)


def is_skip(text: str) -> bool:
    return _matches(text, SKIP_PHRASES)


def is_greeting_only(text: str) -> bool:
    """A greeting and nothing more ("hi", "สวัสดีครับ", "Guten Tag!"): answer it, do not search it."""
    if not _matches(text, GREETING_PHRASES):
        return False
    if has_thai(text):
        return len(normalise(text).replace(" ", "")) <= 12
    return len(words(text)) <= 3


# Words that carry no meaning for matching a question to an article (after normalise()).
STOPWORDS = frozenset(
    """
    a an the i me my we our you your it its is are was were be been am do does did can could would should will
    to of in on at for from with and or but not no how what when where why which who whom this that these those
    there here have has had get got please hi hello thanks thank want need help about any some if so just
    much many take only also still yet really one don doesn didn isn aren won wasn let know tell like
    il lo la i gli le un una uno di da del della dei delle che e ed o non per con su mi ti si ci come quando
    dove cosa perche posso puoi vorrei ho ha sono sei e gia anche piu mio mia miei
    der die das den dem des ein eine einen einem einer und oder nicht ich du sie wir ihr es ist sind war mein
    meine meinen mit von zu zum zur fur auf im in an am wie was wann wo warum kann konnen mochte habe hat bei
    noch schon auch
    men sen o biz siz onlar ve ya bu su ne nece niye harada haradan zaman ucun ile bir var yox mene menim
    edim ede bilerem olar mi mu
    """.split()
)

# Thai particles and function words that do not identify a topic.
THAI_STOPWORDS = frozenset(
    ["ครับ", "ค่ะ", "คะ", "นะ", "จ้ะ", "จ้า", "ฉัน", "ผม", "ดิฉัน", "เรา", "คุณ", "ได้", "ไหม", "มั้ย", "อย่างไร",
     "ยังไง", "ที่", "ของ", "และ", "หรือ", "จะ", "ให้", "มี", "เป็น", "ก็", "แล้ว", "อยาก", "ว่า", "บ้าง", "การ",
     "กับ", "ใน", "จาก", "นี้", "นั้น", "อะไร", "เมื่อไร", "เมื่อไหร่", "ทำ", "ต้อง", "หน่อย", "ช่วย", "ขอ", "มา", " "]
)


# --- What the bot says (gettext; render inside translation.override(customer language)) ---------------


def default_greeting() -> str:
    return _("Hi! I'm the virtual assistant. Ask me a question, or ask for a person at any time.")


def answer_intro(title: str) -> str:
    return _("This article should help: %(title)s") % {"title": title}


def read_more(url: str) -> str:
    return _("Read the whole article: %(url)s") % {"url": url}


def answer_followup() -> str:
    return _("Did that answer your question? If not, tell me more, or ask to talk to a person.")


def clarify_intro() -> str:
    return _("I found a few articles that might fit. Which one is closest? Reply with its number:")


def clarify_none() -> str:
    return _("If none of them fits, reply \"none\".")


def rephrase() -> str:
    return _("Sorry, that did not help. Could you describe your question in other words?")


def glad() -> str:
    return _("Glad I could help! Is there anything else?")


def handover_message() -> str:
    return _(
        "I'm passing you to a colleague now. They will see everything we discussed, so you won't have to "
        "repeat yourself."
    )


def handover_closed(when: str) -> str:
    if when:
        return _("Our team is away right now and back %(when)s. A colleague will answer here as soon as they are in.") % {
            "when": when
        }
    return _("Our team is away right now. A colleague will answer here as soon as they are in.")


def out_of_hours(when: str) -> str:
    if when:
        return _(
            "Our team is away right now and back %(when)s. Leave your email address or phone number and we will "
            "reply by email or call you back."
        ) % {"when": when}
    return _(
        "Our team is away right now. Leave your email address or phone number and we will reply by email or "
        "call you back."
    )


def contact_noted(value: str) -> str:
    return _("Thank you. We will get back to you at %(contact)s as soon as we are open.") % {"contact": value}


def contact_invalid() -> str:
    return _("Please type an email address (name@example.com) or a phone number with its country code.")


def ask_order_number() -> str:
    return _("Before I pass you on: what is your order number? (Reply \"skip\" if you don't have one.)")


def order_number_invalid() -> str:
    return _("I could not find an order number in that. It usually has digits, like 10482. Reply \"skip\" to go on.")


def ask_email() -> str:
    return _("Which email address can we reach you at? I'll send you a code to confirm it.")


def email_invalid() -> str:
    return _("That does not look like an email address. Please type it again, like name@example.com.")


def code_sent(address: str) -> str:
    return _("I've sent a 6-digit code to %(address)s. Please type it here.") % {"address": address}


def code_wrong(kind: str = "email") -> str:
    if kind == "phone":
        return _("That code did not match. Please check the text message and type the code again.")
    return _("That code did not match. Please check the email and type the code again.")


def code_prompt(kind: str = "email") -> str:
    if kind == "phone":
        return _("Please type the 6-digit code from the text message, or type another phone number.")
    return _("Please type the 6-digit code from the email, or type another email address.")


def email_confirmed() -> str:
    return _("Thank you, your email address is confirmed.")


def ask_phone() -> str:
    return _("Which phone number can we reach you at, with its country code? I'll text you a code to confirm it.")


def phone_invalid() -> str:
    return _("That does not look like a phone number. Please type it with its country code, like +44 7700 900123.")


def phone_confirmed() -> str:
    return _("Thank you, your phone number is confirmed.")


def limit_reached() -> str:
    return _("Let me bring in a colleague who can help further.")
