"""Short multilingual sentence banks, names and phone formats for the data generator.

Written for the benchmarks (en, th, it, de, az): a customer-support flavour, with Thai written the way
it is sent (no spaces between words) so text handling sees realistic input. Nothing here is random; the
generator draws from these lists with its own seeded generator.
"""

from __future__ import annotations

LANGUAGES = ("en", "th", "it", "de", "az")

# How often each language appears among customers (a European shop with a Thai and Azerbaijani market).
LANGUAGE_WEIGHTS = (35, 20, 15, 20, 10)

CUSTOMER_SENTENCES = {
    "en": (
        "Hi, my order hasn't arrived yet.",
        "I ordered size 39 but got size 41.",
        "Can I exchange these shoes for another colour?",
        "The parcel was damaged when it arrived.",
        "Do you ship to Canada?",
        "How long does a refund usually take?",
        "My order number is 10234.",
        "The tracking link doesn't work.",
        "I was charged twice for the same order.",
        "Could you send me a return label, please?",
        "Thanks, that solved it!",
        "Is this model available in black?",
    ),
    "th": (
        "สวัสดีค่ะ สั่งรองเท้าไปเมื่อวาน อยากทราบว่าจะได้รับเมื่อไหร่คะ",
        "หมายเลขคำสั่งซื้อ 10311 ค่ะ",
        "ได้รับสินค้าผิดไซส์ครับ ขอเปลี่ยนได้ไหมครับ",
        "กล่องพัสดุเสียหายตอนมาส่งค่ะ",
        "ขอเลขพัสดุหน่อยได้ไหมคะ",
        "โดนตัดเงินสองครั้งค่ะ ช่วยตรวจสอบให้หน่อย",
        "รุ่นนี้มีสีดำไหมครับ",
        "ขอบคุณมากค่ะ เรียบร้อยแล้ว",
        "คืนเงินใช้เวลากี่วันครับ",
        "ส่งไปเชียงใหม่ได้ไหมคะ",
    ),
    "it": (
        "Buongiorno, il pacco è arrivato danneggiato.",
        "Posso avere un rimborso o una sostituzione?",
        "Il numero d'ordine è 10455.",
        "Ho ricevuto la taglia sbagliata.",
        "Spedite anche in Svizzera?",
        "Il link di tracciamento non funziona.",
        "Mi avete addebitato due volte lo stesso ordine.",
        "Grazie mille, tutto risolto!",
        "Questo modello è disponibile in nero?",
        "Quando arriva il mio ordine?",
    ),
    "de": (
        "Hallo, ich habe die Schuhe in Größe 39 bestellt, aber Größe 41 bekommen.",
        "Bestellnummer 10234. Kann ich sie umtauschen?",
        "Das Paket ist beschädigt angekommen.",
        "Wie lange dauert eine Rückerstattung?",
        "Der Sendungsverfolgungslink funktioniert nicht.",
        "Mir wurde die Bestellung doppelt berechnet.",
        "Liefern Sie auch nach Österreich?",
        "Gibt es dieses Modell auch in Schwarz?",
        "Vielen Dank, das hat geholfen!",
        "Können Sie mir ein Rücksendeetikett schicken?",
    ),
    "az": (
        "Salam! Ayaqqabının ölçüsü kiçik gəldi, dəyişmək olar?",
        "Sifariş nömrəm 10567-dir.",
        "Bağlama zədələnmiş gəldi.",
        "Pulun qaytarılması nə qədər çəkir?",
        "Bakıya çatdırılma var?",
        "İzləmə linki işləmir.",
        "Məndən iki dəfə ödəniş tutulub.",
        "Bu model qara rəngdə var?",
        "Çox sağ olun, problem həll olundu!",
        "Sifarişim nə vaxt gələcək?",
    ),
}

AGENT_SENTENCES = {
    "en": (
        "Sorry about that! I've sent you a return label by email.",
        "Your refund has been issued; it takes 3–5 business days.",
        "Could you send me your order number, please?",
        "We ship to Canada in 5–7 days.",
        "I've checked with the warehouse: it leaves today.",
    ),
    "th": (
        "ขออภัยค่ะ ส่งป้ายคืนสินค้าไปทางอีเมลแล้วนะคะ",
        "คืนเงินเรียบร้อยแล้วค่ะ ใช้เวลา 3-5 วันทำการ",
        "รบกวนขอหมายเลขคำสั่งซื้อด้วยค่ะ",
        "สินค้าจะจัดส่งวันนี้ค่ะ",
    ),
    "it": (
        "Ci scusiamo! Le abbiamo inviato un'etichetta di reso.",
        "Il rimborso è stato emesso, servono 3–5 giorni lavorativi.",
        "Mi può indicare il numero d'ordine, per favore?",
        "Il pacco parte oggi dal magazzino.",
    ),
    "de": (
        "Das tut uns leid! Wir schicken Ihnen heute ein Rücksendeetikett.",
        "Die Rückerstattung ist veranlasst, sie dauert 3–5 Werktage.",
        "Können Sie mir bitte Ihre Bestellnummer nennen?",
        "Das Paket verlässt heute unser Lager.",
    ),
    "az": (
        "Üzr istəyirik! Qaytarma etiketini e-poçtla göndərdik.",
        "Pulunuz qaytarıldı, 3–5 iş günü çəkir.",
        "Sifariş nömrənizi göndərə bilərsiniz?",
        "Bağlama bu gün anbardan çıxır.",
    ),
}

NOTES = (
    "Exchange approved, label follows.",
    "Checked with the warehouse: stock arrives Monday.",
    "Customer also wrote by email, same issue.",
    "Refund issued in the shop backend.",
    "Escalated to the payments team.",
)

# (display name, ascii slug for email addresses)
NAMES = {
    "en": (("James Carter", "james.carter"), ("Emily Clarke", "emily.clarke"), ("Olivia Brown", "olivia.brown"),
           ("Noah Wilson", "noah.wilson"), ("Amelia Hughes", "amelia.hughes"), ("Liam Walker", "liam.walker")),
    "th": (("นก ศรีสุข", "nok.srisuk"), ("สมชาย ใจดี", "somchai.jaidee"), ("มาลี วงศ์ไทย", "malee.wongthai"),
           ("ประเสริฐ แก้วมณี", "prasert.kaewmanee"), ("สุดา ทองดี", "suda.thongdee")),
    "it": (("Marco Rossi", "marco.rossi"), ("Giulia Bianchi", "giulia.bianchi"), ("Luca Romano", "luca.romano"),
           ("Chiara Esposito", "chiara.esposito"), ("Francesca Ricci", "francesca.ricci")),
    "de": (("Anna Müller", "anna.mueller"), ("Lukas Schmidt", "lukas.schmidt"), ("Jürgen Weiß", "juergen.weiss"),
           ("Sophie Becker", "sophie.becker"), ("Jonas Fischer", "jonas.fischer")),
    "az": (("Leyla Məmmədova", "leyla.mammadova"), ("Elvin Əliyev", "elvin.aliyev"),
           ("Aysel Hüseynova", "aysel.huseynova"), ("Rəşad Quliyev", "rashad.guliyev"),
           ("Nərgiz İsmayılova", "nargiz.ismayilova")),
}

EMAIL_DOMAINS = {
    "en": "example.co.uk", "th": "example.co.th", "it": "example.it", "de": "example.de", "az": "example.az",
}

# E.164 prefixes of mobile numbers; the generator appends a number derived from the contact id, so every
# phone identity is unique and has a plausible length.
PHONE_PREFIXES = {"en": "+4477", "th": "+668", "it": "+393", "de": "+4915", "az": "+99450"}
PHONE_DIGITS = {"en": 8, "th": 8, "it": 9, "de": 9, "az": 7}

SUBJECTS = {
    "en": "Wrong size", "th": "สอบถามการจัดส่ง", "it": "Pacco danneggiato", "de": "Umtausch", "az": "Ölçü dəyişmə",
}
