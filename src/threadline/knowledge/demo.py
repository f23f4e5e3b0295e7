"""The demo workspace's knowledge base: a shoe shop's help center in English, Thai, Italian, German and
Azerbaijani (categories, eight public articles, one internal article, one draft). Good enough for the
bot to answer from; ``demo.seed`` calls ``knowledge_demo_seed`` once.
"""

from __future__ import annotations

from threadline.core.models import Workspace
from threadline.knowledge.models import Article, Visibility
from threadline.knowledge.services import article_create, article_update, category_save, help_center_save, translation_save

CATEGORIES = {
    "orders-delivery": {
        "en": "Orders & delivery", "th": "คำสั่งซื้อและการจัดส่ง", "it": "Ordini e consegna",
        "de": "Bestellung & Lieferung", "az": "Sifarişlər və çatdırılma",
    },
    "returns-refunds": {
        "en": "Returns & refunds", "th": "การคืนสินค้าและการคืนเงิน", "it": "Resi e rimborsi",
        "de": "Rücksendung & Erstattung", "az": "Qaytarma və pulun geri ödənilməsi",
    },
    "sizes-products": {
        "en": "Sizes & products", "th": "ขนาดและสินค้า", "it": "Taglie e prodotti",
        "de": "Größen & Produkte", "az": "Ölçülər və məhsullar",
    },
    "payment-account": {
        "en": "Payment & account", "th": "การชำระเงินและบัญชี", "it": "Pagamento e account",
        "de": "Zahlung & Konto", "az": "Ödəniş və hesab",
    },
}  # fmt: skip

# key: (category, {locale: (title, markdown)})
ARTICLES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "return-shoes": ("returns-refunds", {
        "en": ("How do I return shoes?", """Shoes that don't fit or that you don't like? You can send them back: returns of unworn shoes are free within **30 days** of delivery.

1. Sign in to your account and open **Orders**.
2. Choose the order and click **Return items**, then pick the pairs and a reason.
3. Print the prepaid return label and stick it on the original box.
4. Drop the parcel at any post office or parcel shop.

Shoes must be unworn, in their original box and with all labels. Sale items can be returned too."""),
        "th": ("จะคืนรองเท้าได้อย่างไร", """คุณสามารถคืนรองเท้าที่ยังไม่ได้สวมใส่ได้ฟรีภายใน **30 วัน** หลังได้รับสินค้า

1. เข้าสู่ระบบบัญชีของคุณแล้วเปิดเมนู **คำสั่งซื้อ**
2. เลือกคำสั่งซื้อแล้วกด **คืนสินค้า** จากนั้นเลือกคู่ที่ต้องการคืนและเหตุผล
3. พิมพ์ฉลากส่งคืนแบบชำระค่าส่งล่วงหน้าแล้วติดบนกล่องเดิม
4. นำพัสดุไปส่งที่ที่ทำการไปรษณีย์หรือจุดรับพัสดุใดก็ได้

รองเท้าต้องไม่ผ่านการใช้งาน อยู่ในกล่องเดิมและมีป้ายครบ สินค้าลดราคาก็คืนได้เช่นกัน"""),
        "it": ("Come posso restituire le scarpe?", """Puoi restituire gratuitamente le scarpe non indossate entro **30 giorni** dalla consegna.

1. Accedi al tuo account e apri **Ordini**.
2. Scegli l'ordine, clicca su **Restituisci articoli** e indica le paia e il motivo.
3. Stampa l'etichetta di reso prepagata e attaccala sulla scatola originale.
4. Consegna il pacco in un ufficio postale o in un punto di ritiro.

Le scarpe devono essere non indossate, nella scatola originale e con tutte le etichette. Anche gli articoli in saldo si possono restituire."""),
        "de": ("Wie schicke ich Schuhe zurück?", """Ungetragene Schuhe kannst du innerhalb von **30 Tagen** nach der Lieferung kostenlos zurückschicken.

1. Melde dich in deinem Kundenkonto an und öffne **Bestellungen**.
2. Wähle die Bestellung, klicke auf **Artikel zurücksenden** und gib die Paare und den Grund an.
3. Drucke das frankierte Rücksendeetikett aus und klebe es auf den Originalkarton.
4. Gib das Paket in einer Postfiliale oder einem Paketshop ab.

Die Schuhe müssen ungetragen sein, im Originalkarton und mit allen Etiketten. Auch reduzierte Artikel kannst du zurückgeben. Das Rücksendeformular liegt jedem Paket bei."""),
        "az": ("Ayaqqabını necə qaytara bilərəm?", """Geyinilməmiş ayaqqabıları çatdırılmadan sonra **30 gün** ərzində pulsuz qaytara bilərsiniz.

1. Hesabınıza daxil olun və **Sifarişlər** bölməsini açın.
2. Sifarişi seçin, **Məhsulları qaytar** düyməsini basın, cütləri və səbəbi göstərin.
3. Əvvəlcədən ödənilmiş qaytarma etiketini çap edin və orijinal qutunun üzərinə yapışdırın.
4. Bağlamanı istənilən poçt şöbəsinə və ya bağlama məntəqəsinə təhvil verin.

Ayaqqabılar geyinilməmiş, orijinal qutuda və bütün etiketləri ilə olmalıdır. Endirimli məhsulları da qaytarmaq olar."""),
    }),
    "refund-time": ("returns-refunds", {
        "en": ("When will I get my refund?", """We refund you within **5 business days** after your return reaches our warehouse.

The money goes back to the payment method you used: card and PayPal refunds show up in 3–5 days, bank transfers can take up to 7 days. You get an email as soon as the refund is issued.

If you paid cash on delivery, we refund to the bank account you enter in the return form."""),
        "th": ("จะได้รับเงินคืนเมื่อไร", """เราจะคืนเงินให้คุณภายใน **5 วันทำการ** หลังจากสินค้าที่ส่งคืนถึงคลังสินค้าของเรา

เงินจะถูกคืนเข้าช่องทางเดิมที่คุณใช้ชำระเงิน บัตรเครดิตและเพย์พาลจะเห็นยอดภายใน 3–5 วัน การโอนผ่านธนาคารอาจใช้เวลาถึง 7 วัน คุณจะได้รับอีเมลทันทีที่เราคืนเงิน

หากคุณชำระเงินปลายทาง เราจะโอนเงินคืนเข้าบัญชีธนาคารที่คุณระบุในแบบฟอร์มคืนสินค้า"""),
        "it": ("Quando riceverò il rimborso?", """Ti rimborsiamo entro **5 giorni lavorativi** dall'arrivo del reso nel nostro magazzino.

Il denaro torna sul metodo di pagamento che hai usato: i rimborsi su carta e PayPal compaiono in 3–5 giorni, i bonifici possono richiedere fino a 7 giorni. Ricevi un'email appena il rimborso viene emesso.

Se hai pagato in contrassegno, rimborsiamo sul conto bancario che indichi nel modulo di reso."""),
        "de": ("Wann bekomme ich mein Geld zurück?", """Wir erstatten den Betrag innerhalb von **5 Werktagen**, nachdem deine Rücksendung in unserem Lager angekommen ist.

Das Geld geht auf die Zahlungsart zurück, mit der du bezahlt hast: Erstattungen auf Karte und PayPal siehst du nach 3–5 Tagen, Banküberweisungen können bis zu 7 Tage dauern. Sobald die Rückerstattung veranlasst ist, bekommst du eine E-Mail.

Hast du per Nachnahme bezahlt, überweisen wir auf das Bankkonto, das du im Rücksendeformular angibst."""),
        "az": ("Pulumu nə vaxt geri alacağam?", """Qaytardığınız məhsul anbarımıza çatdıqdan sonra **5 iş günü** ərzində pulunuzu geri ödəyirik.

Pul ödəniş etdiyiniz üsula qaytarılır: kart və PayPal ödənişləri 3–5 günə görünür, bank köçürməsi 7 günə qədər çəkə bilər. Geri ödəniş edilən kimi sizə e-poçt göndəririk.

Çatdırılma zamanı nağd ödəmisinizsə, pulu qaytarma formasında göstərdiyiniz bank hesabına köçürürük."""),
    }),
    "exchange-size": ("returns-refunds", {
        "en": ("Can I exchange shoes for another size?", """Yes. Exchanges — swapping a pair for a bigger or smaller size, or another colour — are **free** within 30 days.

Open the order in your account, click **Exchange**, choose the new size and send the old pair back with the prepaid label. We ship the new pair as soon as the parcel is scanned by the carrier, so you do not have to wait for the warehouse.

If the new size is sold out, we refund you instead."""),
        "th": ("เปลี่ยนรองเท้าเป็นไซส์อื่นได้ไหม", """ได้ การเปลี่ยนไซส์หรือสีทำได้ **ฟรี** ภายใน 30 วัน

เปิดคำสั่งซื้อในบัญชีของคุณ กด **เปลี่ยนสินค้า** เลือกไซส์ใหม่ แล้วส่งคู่เดิมกลับพร้อมฉลากส่งคืน เราจะส่งคู่ใหม่ให้ทันทีที่บริษัทขนส่งสแกนพัสดุ คุณไม่ต้องรอให้สินค้าถึงคลัง

หากไซส์ใหม่หมด เราจะคืนเงินให้แทน"""),
        "it": ("Posso cambiare le scarpe con un'altra taglia?", """Sì. Il cambio con un numero più grande o più piccolo, o con un altro colore, è **gratuito** entro 30 giorni.

Apri l'ordine nel tuo account, clicca su **Cambia**, scegli la nuova taglia e rispedisci il vecchio paio con l'etichetta prepagata. Spediamo il nuovo paio appena il corriere scansiona il pacco, senza aspettare il magazzino.

Se la nuova taglia è esaurita, ti rimborsiamo."""),
        "de": ("Kann ich Schuhe in eine andere Größe umtauschen?", """Ja. Der Umtausch in eine andere Größe oder Farbe ist innerhalb von 30 Tagen **kostenlos**.

Öffne die Bestellung in deinem Konto, klicke auf **Umtauschen**, wähle die neue Größe und schicke das alte Paar mit dem frankierten Etikett zurück. Wir versenden das neue Paar, sobald der Paketdienst die Sendung scannt — du musst nicht auf das Lager warten.

Ist die neue Größe ausverkauft, erstatten wir dir den Betrag."""),
        "az": ("Ayaqqabını başqa ölçü ilə dəyişə bilərəmmi?", """Bəli. Başqa ölçü və ya rəngə dəyişmək 30 gün ərzində **pulsuzdur**.

Hesabınızda sifarişi açın, **Dəyiş** düyməsini basın, yeni ölçünü seçin və köhnə cütü ödənilmiş etiketlə geri göndərin. Kuryer bağlamanı skan edən kimi yeni cütü göndəririk, anbarı gözləmək lazım deyil.

Yeni ölçü qalmayıbsa, pulunuzu geri qaytarırıq."""),
    }),
    "size-guide": ("sizes-products", {
        "en": ("Which shoe size should I order?", """Measure your foot in **centimetres** and compare it with the size chart.

1. Stand on a sheet of paper and mark your heel and longest toe.
2. Measure the distance and pick the size below. Between two sizes, take the larger one.

| Foot length | EU | UK | US |
|---|---|---|---|
| 24.0 cm | 38 | 5 | 7 |
| 25.0 cm | 40 | 6.5 | 8.5 |
| 26.0 cm | 41 | 7.5 | 9.5 |
| 27.0 cm | 43 | 9 | 10 |

Our sneakers run true to size; boots are a little narrow. Watch the video:

https://www.youtube.com/watch?v=dQw4w9WgXcQ"""),
        "th": ("ควรสั่งรองเท้าไซส์ไหน", """วัดความยาวเท้าเป็น **เซนติเมตร** แล้วเทียบกับตารางไซส์

1. ยืนบนกระดาษแล้วทำเครื่องหมายที่ส้นเท้าและปลายนิ้วเท้าที่ยาวที่สุด
2. วัดระยะแล้วเลือกไซส์ตามตาราง หากอยู่ระหว่างสองไซส์ให้เลือกไซส์ที่ใหญ่กว่า

| ความยาวเท้า | EU | UK | US |
|---|---|---|---|
| 24.0 ซม. | 38 | 5 | 7 |
| 25.0 ซม. | 40 | 6.5 | 8.5 |
| 26.0 ซม. | 41 | 7.5 | 9.5 |
| 27.0 ซม. | 43 | 9 | 10 |

รองเท้าผ้าใบของเราไซส์ตรงตามมาตรฐาน ส่วนรองเท้าบูทจะแคบเล็กน้อย"""),
        "it": ("Che numero di scarpe devo ordinare?", """Misura il piede in **centimetri** e confrontalo con la tabella delle taglie.

1. Appoggia il piede su un foglio e segna il tallone e la punta dell'alluce.
2. Misura la distanza e scegli la taglia qui sotto. Se sei tra due taglie, prendi quella più grande.

| Lunghezza piede | EU | UK | US |
|---|---|---|---|
| 24,0 cm | 38 | 5 | 7 |
| 25,0 cm | 40 | 6,5 | 8,5 |
| 26,0 cm | 41 | 7,5 | 9,5 |
| 27,0 cm | 43 | 9 | 10 |

Le nostre sneakers vestono regolari; gli stivali sono un po' stretti."""),
        "de": ("Welche Schuhgröße soll ich bestellen?", """Miss deinen Fuß in **Zentimetern** und vergleiche ihn mit der Größentabelle.

1. Stell dich auf ein Blatt Papier und markiere Ferse und längsten Zeh.
2. Miss den Abstand und wähle die Größe unten. Liegst du zwischen zwei Größen, nimm die größere.

| Fußlänge | EU | UK | US |
|---|---|---|---|
| 24,0 cm | 38 | 5 | 7 |
| 25,0 cm | 40 | 6,5 | 8,5 |
| 26,0 cm | 41 | 7,5 | 9,5 |
| 27,0 cm | 43 | 9 | 10 |

Unsere Sneaker fallen normal aus, Stiefel etwas schmal. Die Schuhgrößenberatung im Video:

https://www.youtube.com/watch?v=dQw4w9WgXcQ"""),
        "az": ("Hansı ayaqqabı ölçüsünü sifariş etməliyəm?", """Ayağınızı **santimetrlə** ölçün və ölçü cədvəli ilə müqayisə edin.

1. Kağız vərəqin üstündə durun, dabanınızı və ən uzun barmağınızı işarələyin.
2. Məsafəni ölçün və aşağıdakı ölçünü seçin. İki ölçü arasındasınızsa, böyüyünü götürün.

| Ayağın uzunluğu | EU | UK | US |
|---|---|---|---|
| 24,0 sm | 38 | 5 | 7 |
| 25,0 sm | 40 | 6,5 | 8,5 |
| 26,0 sm | 41 | 7,5 | 9,5 |
| 27,0 sm | 43 | 9 | 10 |

İdman ayaqqabılarımız standart ölçüdədir, çəkmələr bir az dardır."""),
    }),
    "delivery-times": ("orders-delivery", {
        "en": ("How long does delivery take and what does it cost?", """Standard delivery takes **3–5 business days** and is free for orders over 50 EUR (otherwise 4.90 EUR).

Express delivery arrives the **next business day** if you order before 2 pm and costs 9.90 EUR. International orders take 7–14 days.

We ship Monday to Friday. You get a tracking link by email when your parcel leaves the warehouse."""),
        "th": ("การจัดส่งใช้เวลานานเท่าไรและมีค่าใช้จ่ายเท่าไร", """การจัดส่งแบบปกติใช้เวลา **3–5 วันทำการ** และส่งฟรีเมื่อสั่งซื้อเกิน 50 ยูโร (ไม่เช่นนั้นค่าส่ง 4.90 ยูโร)

การจัดส่งด่วนจะถึง **ในวันทำการถัดไป** หากสั่งก่อน 14.00 น. ค่าส่ง 9.90 ยูโร คำสั่งซื้อต่างประเทศใช้เวลา 7–14 วัน

เราจัดส่งวันจันทร์ถึงวันศุกร์ คุณจะได้รับลิงก์ติดตามพัสดุทางอีเมลเมื่อพัสดุออกจากคลังสินค้า"""),
        "it": ("Quanto tempo richiede la consegna e quanto costa?", """La consegna standard richiede **3–5 giorni lavorativi** ed è gratuita per ordini superiori a 50 EUR (altrimenti 4,90 EUR).

La consegna express arriva il **giorno lavorativo successivo** se ordini entro le 14 e costa 9,90 EUR. Gli ordini internazionali richiedono 7–14 giorni.

Spediamo dal lunedì al venerdì. Ricevi via email il link di tracciamento quando il pacco lascia il magazzino."""),
        "de": ("Wie lange dauert die Lieferung und was kostet sie?", """Die Standardlieferung dauert **3–5 Werktage** und ist ab 50 EUR Bestellwert kostenlos (sonst 4,90 EUR).

Die Expresslieferung kommt am **nächsten Werktag**, wenn du vor 14 Uhr bestellst, und kostet 9,90 EUR. Internationale Bestellungen brauchen 7–14 Tage.

Wir versenden montags bis freitags. Sobald dein Paket das Lager verlässt, bekommst du einen Sendungsverfolgungslink per E-Mail."""),
        "az": ("Çatdırılma nə qədər çəkir və neçəyədir?", """Standart çatdırılma **3–5 iş günü** çəkir və 50 EUR-dan yuxarı sifarişlər üçün pulsuzdur (əks halda 4,90 EUR).

Ekspress çatdırılma saat 14:00-dan əvvəl sifariş etsəniz **növbəti iş günü** çatır və 9,90 EUR-dur. Beynəlxalq sifarişlər 7–14 gün çəkir.

Bazar ertəsindən cüməyədək göndəririk. Bağlama anbardan çıxanda e-poçtla izləmə linki alırsınız."""),
    }),
    "track-order": ("orders-delivery", {
        "en": ("Where is my order?", """Follow your parcel with the **tracking link** in the shipping email, or open **Orders** in your account and click **Track parcel**.

Tracking can take up to 24 hours to show the first scan. If there has been no update for 5 business days, contact us with your order number and we will open an investigation with the carrier.

If the carrier marks the parcel as delivered but you did not receive it, check with your neighbours and then write to us."""),
        "th": ("คำสั่งซื้อของฉันอยู่ที่ไหน", """ติดตามพัสดุได้จาก **ลิงก์ติดตามพัสดุ** ในอีเมลแจ้งการจัดส่ง หรือเปิด **คำสั่งซื้อ** ในบัญชีของคุณแล้วกด **ติดตามพัสดุ**

ข้อมูลการติดตามอาจใช้เวลาถึง 24 ชั่วโมงก่อนแสดงการสแกนครั้งแรก หากไม่มีความเคลื่อนไหว 5 วันทำการ โปรดติดต่อเราพร้อมหมายเลขคำสั่งซื้อ แล้วเราจะตรวจสอบกับบริษัทขนส่ง

หากสถานะแจ้งว่าส่งถึงแล้วแต่คุณไม่ได้รับ โปรดสอบถามเพื่อนบ้านก่อนแล้วจึงเขียนถึงเรา"""),
        "it": ("Dov'è il mio ordine?", """Segui il pacco con il **link di tracciamento** nell'email di spedizione, oppure apri **Ordini** nel tuo account e clicca su **Traccia pacco**.

Il tracciamento può impiegare fino a 24 ore per mostrare la prima scansione. Se non ci sono aggiornamenti da 5 giorni lavorativi, contattaci con il numero d'ordine e apriremo una verifica con il corriere.

Se il corriere segna il pacco come consegnato ma non l'hai ricevuto, chiedi ai vicini e poi scrivici."""),
        "de": ("Wo ist meine Bestellung?", """Verfolge dein Paket über den **Sendungsverfolgungslink** in der Versandbestätigung oder öffne **Bestellungen** in deinem Konto und klicke auf **Paket verfolgen**.

Bis der erste Scan erscheint, kann es bis zu 24 Stunden dauern. Gibt es 5 Werktage lang keine Neuigkeit, schreib uns mit deiner Bestellnummer; wir starten dann einen Nachforschungsauftrag beim Paketdienst.

Ist das Paket als zugestellt markiert, aber nicht bei dir angekommen, frag bitte bei den Nachbarn nach und melde dich dann bei uns."""),
        "az": ("Sifarişim haradadır?", """Bağlamanızı göndərmə e-poçtundakı **izləmə linki** ilə izləyin və ya hesabınızda **Sifarişlər** bölməsini açıb **Bağlamanı izlə** düyməsini basın.

İlk skanın görünməsi 24 saata qədər çəkə bilər. 5 iş günü heç bir yenilik yoxdursa, sifariş nömrəniz ilə bizə yazın, kuryer şirkəti ilə araşdırma açacağıq.

Kuryer bağlamanı çatdırılmış kimi qeyd edib, amma siz almamısınızsa, qonşularınızdan soruşun və sonra bizə yazın."""),
    }),
    "payment-methods": ("payment-account", {
        "en": ("Which payment methods can I use?", """We accept credit and debit cards (**Visa, Mastercard and American Express**), **PayPal**, bank transfer and, in Thailand, **PromptPay**.

Cash on delivery is available for orders up to 300 EUR and costs 2 EUR extra. Your card is charged only when the order ships.

All payments are processed over an encrypted connection; we never store your full card number."""),
        "th": ("ชำระเงินด้วยวิธีใดได้บ้าง", """เรารับ **บัตรวีซ่า มาสเตอร์การ์ด และอเมริกันเอ็กซ์เพรส** **เพย์พาล** การโอนเงินผ่านธนาคาร และ **พร้อมเพย์** สำหรับลูกค้าในประเทศไทย

เก็บเงินปลายทางได้สำหรับคำสั่งซื้อไม่เกิน 300 ยูโร มีค่าธรรมเนียมเพิ่ม 2 ยูโร บัตรของคุณจะถูกเรียกเก็บเงินเมื่อจัดส่งสินค้าแล้วเท่านั้น

การชำระเงินทั้งหมดผ่านการเชื่อมต่อที่เข้ารหัส เราไม่เก็บหมายเลขบัตรเครดิตของคุณแบบเต็ม"""),
        "it": ("Quali metodi di pagamento posso usare?", """Accettiamo **Visa, Mastercard e American Express**, **PayPal**, bonifico bancario e, in Thailandia, **PromptPay**.

Il pagamento in contrassegno è disponibile per ordini fino a 300 EUR e costa 2 EUR in più. La carta viene addebitata solo alla spedizione dell'ordine.

Tutti i pagamenti passano da una connessione cifrata; non conserviamo mai il numero completo della carta di credito."""),
        "de": ("Welche Zahlungsarten gibt es?", """Wir akzeptieren **Visa, Mastercard und American Express**, **PayPal**, Banküberweisung und in Thailand **PromptPay**.

Nachnahme ist für Bestellungen bis 300 EUR möglich und kostet 2 EUR extra. Deine Kreditkarte wird erst belastet, wenn die Bestellung versendet wird.

Alle Zahlungen laufen über eine verschlüsselte Verbindung; wir speichern nie deine vollständige Kartennummer."""),
        "az": ("Hansı ödəniş üsullarından istifadə edə bilərəm?", """Kartla, PayPal ilə və ya bank köçürməsi ilə ödəmək olar: **Visa, Mastercard və American Express** kartlarını, **PayPal**-ı, bank köçürməsini və Taylandda **PromptPay**-i qəbul edirik.

Çatdırılma zamanı nağd ödəniş 300 EUR-a qədər sifarişlər üçün mümkündür və əlavə 2 EUR-dur. Kartınızdan pul yalnız sifariş göndəriləndə çıxılır.

Bütün ödənişlər şifrəli bağlantı ilə aparılır; kartınızın tam nömrəsini heç vaxt saxlamırıq."""),
    }),
    "reset-password": ("payment-account", {
        "en": ("I forgot my password. How do I reset it?", """Click **Forgot password?** on the sign-in page and enter the email address of your account.

We send you a reset link that is valid for **one hour**. Open it, choose a new password and sign in. If the email does not arrive within a few minutes, check your spam folder.

To change your email address or delete your account, open **Account settings** after signing in."""),
        "th": ("ลืมรหัสผ่าน จะรีเซ็ตได้อย่างไร", """กด **ลืมรหัสผ่าน** ในหน้าเข้าสู่ระบบแล้วกรอกอีเมลของบัญชีคุณ

เราจะส่งลิงก์รีเซ็ตรหัสผ่านที่ใช้ได้ **หนึ่งชั่วโมง** ให้คุณ เปิดลิงก์ ตั้งรหัสผ่านใหม่ แล้วเข้าสู่ระบบ หากไม่ได้รับอีเมลภายในไม่กี่นาที โปรดตรวจสอบโฟลเดอร์สแปม

หากต้องการเปลี่ยนอีเมลหรือลบบัญชี ให้เปิด **การตั้งค่าบัญชี** หลังเข้าสู่ระบบ"""),
        "it": ("Ho dimenticato la password. Come la reimposto?", """Clicca su **Password dimenticata?** nella pagina di accesso e inserisci l'indirizzo email del tuo account.

Ti inviamo un link di reimpostazione valido per **un'ora**. Aprilo, scegli una nuova password e accedi. Se l'email non arriva entro pochi minuti, controlla la cartella spam.

Per cambiare l'indirizzo email o eliminare l'account, apri **Impostazioni account** dopo l'accesso."""),
        "de": ("Ich habe mein Passwort vergessen. Wie setze ich es zurück?", """Klicke auf der Anmeldeseite auf **Passwort vergessen?** und gib die E-Mail-Adresse deines Kontos ein.

Wir schicken dir einen Link zum Zurücksetzen, der **eine Stunde** gültig ist. Öffne ihn, wähle ein neues Passwort und melde dich an. Kommt die E-Mail nicht innerhalb weniger Minuten, schau in den Spam-Ordner.

Um deine E-Mail-Adresse zu ändern oder dein Konto zu löschen, öffne nach der Anmeldung die **Kontoeinstellungen**."""),
        "az": ("Şifrəmi unutmuşam. Onu necə bərpa edim?", """Giriş səhifəsində **Şifrəni unutmusunuz?** düyməsini basın və hesabınızın e-poçt ünvanını daxil edin.

Sizə **bir saat** etibarlı olan bərpa linki göndəririk. Linki açın, yeni şifrə seçin və daxil olun. E-poçt bir neçə dəqiqəyə gəlməzsə, spam qovluğunu yoxlayın.

E-poçt ünvanınızı dəyişmək və ya hesabınızı silmək üçün daxil olduqdan sonra **Hesab parametrləri** bölməsini açın."""),
    }),
}  # fmt: skip

INTERNAL = (
    "damaged-claims",
    "returns-refunds",
    "Damaged or faulty shoes: how agents handle a claim",
    """Internal guide for agents. Ask the customer for **two photos** (the fault and the box label) and the
order number. Faulty within 6 months: offer a free replacement or a full refund without a return label
check; over 6 months: escalate to the warranty team with the tag `warranty`. Never promise a refund
before the photos arrive.""",
)
DRAFT = (
    "gift-cards",
    "payment-account",
    "Gift cards (coming soon)",
    "Gift cards will be available from next season. This text is a draft and is not public yet.",
)


def knowledge_demo_seed(workspace: Workspace) -> int:
    """Seed the demo knowledge base once (skipped when it already exists). Returns the articles created."""
    if Article.objects.filter(workspace=workspace, key="return-shoes").exists():
        return 0
    help_center_save(workspace=workspace, name=f"{workspace.name} Help", color="#0f766e", default_locale="en")
    categories = {
        slug: category_save(workspace=workspace, slug=slug, names=names, position=i)
        for i, (slug, names) in enumerate(CATEGORIES.items())
    }
    created: dict[str, Article] = {}
    for position, (key, (category, translations)) in enumerate(ARTICLES.items()):
        article = article_create(workspace=workspace, category=categories[category], key=key, position=position)
        for locale, (title, body) in translations.items():
            translation_save(article=article, locale=locale, title=title, body_markdown=body, publish=True)
        created[key] = article
    for key, category, title, body in (INTERNAL, DRAFT):
        visibility = Visibility.INTERNAL if key == INTERNAL[0] else Visibility.PUBLIC
        article = article_create(workspace=workspace, category=categories[category], key=key, visibility=visibility)
        translation_save(article=article, locale="en", title=title, body_markdown=body, publish=key == INTERNAL[0])
        created[key] = article
    related = {"return-shoes": ["refund-time", "exchange-size"], "size-guide": ["exchange-size"], "track-order": ["delivery-times"]}
    for key, others in related.items():
        article = created[key]
        article_update(
            article=article, category=article.category, visibility=article.visibility, related=[created[o] for o in others]
        )
    return len(created)
