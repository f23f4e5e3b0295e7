"""Shared fixtures of the bot tests: a small multilingual knowledge base, the bot on the API inbox, and a
customer who writes through the signed webhook (the production path) with every job run for real."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import post_signed
from threadline.bot.services import bot_settings_save
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message

ARTICLES = {
    "returns": {
        "en": ("How to return shoes and get a refund",
               "You can return shoes within 30 days of delivery.\n\nPrint the free return label from your account, "
               "pack the shoes in their box and drop the parcel at any post office. The refund reaches your card "
               "within 5 working days."),
        "th": ("วิธีคืนรองเท้าและขอคืนเงิน",
               "คุณสามารถคืนรองเท้าได้ภายใน 30 วันหลังได้รับสินค้า\n\nพิมพ์ฉลากคืนสินค้าฟรีจากบัญชีของคุณ "
               "แพ็ครองเท้าในกล่องแล้วส่งที่ไปรษณีย์ เงินคืนจะเข้าบัตรภายใน 5 วันทำการ"),
        "de": ("Schuhe zurücksenden und Geld erstatten",
               "Du kannst Schuhe innerhalb von 30 Tagen nach der Lieferung zurücksenden.\n\nDrucke das kostenlose "
               "Rücksendeetikett in deinem Konto aus. Die Erstattung ist nach 5 Werktagen auf deiner Karte."),
        "it": ("Come restituire le scarpe e ottenere il rimborso",
               "Puoi restituire le scarpe entro 30 giorni dalla consegna.\n\nStampa l'etichetta di reso gratuita dal "
               "tuo account. Il rimborso arriva sulla carta entro 5 giorni lavorativi."),
        "az": ("Ayaqqabını necə qaytarmaq və pulu geri almaq",
               "Ayaqqabını çatdırılmadan sonra 30 gün ərzində qaytara bilərsiniz.\n\nPulsuz qaytarma etiketini "
               "hesabınızdan çap edin. Pul 5 iş günü ərzində kartınıza qaytarılır."),
    },
    "sizes": {
        "en": ("Finding your shoe size",
               "Measure your foot length in centimetres and compare it with the size chart.\n\nIf you are between "
               "two sizes, choose the larger size."),
        "th": ("วิธีเลือกไซซ์รองเท้า",
               "วัดความยาวเท้าเป็นเซนติเมตรแล้วเทียบกับตารางไซซ์\n\nถ้าอยู่ระหว่างสองไซซ์ ให้เลือกไซซ์ที่ใหญ่กว่า"),
        "de": ("Die richtige Schuhgröße finden",
               "Miss deine Fußlänge in Zentimetern und vergleiche sie mit der Größentabelle.\n\nLiegst du zwischen "
               "zwei Größen, nimm die größere."),
        "it": ("Trovare la taglia giusta delle scarpe",
               "Misura la lunghezza del piede in centimetri e confrontala con la tabella delle taglie."),
        "az": ("Ayaqqabı ölçüsünü necə seçmək",
               "Ayağınızın uzunluğunu santimetrlə ölçün və ölçü cədvəli ilə müqayisə edin."),
    },
    "delivery": {
        "en": ("Delivery times and tracking",
               "Orders ship within one working day. Delivery takes 2 to 4 working days.\n\nYou get a tracking link "
               "by email as soon as the parcel leaves our warehouse."),
        "th": ("ระยะเวลาจัดส่งและการติดตามพัสดุ",
               "เราจัดส่งคำสั่งซื้อภายในหนึ่งวันทำการ การจัดส่งใช้เวลา 2 ถึง 4 วันทำการ\n\nคุณจะได้รับลิงก์ติดตามพัสดุทางอีเมล"),
        "de": ("Lieferzeiten und Sendungsverfolgung",
               "Bestellungen verlassen unser Lager innerhalb eines Werktags. Die Lieferung dauert 2 bis 4 Werktage."),
        "it": ("Tempi di consegna e tracciamento",
               "Gli ordini partono entro un giorno lavorativo. La consegna richiede da 2 a 4 giorni lavorativi."),
        "az": ("Çatdırılma müddəti və izləmə",
               "Sifarişlər bir iş günü ərzində göndərilir. Çatdırılma 2-4 iş günü çəkir."),
    },
    "payment": {
        "en": ("Payment methods",
               "We accept credit cards, debit cards and bank transfer.\n\nCash on delivery is not available."),
        "th": ("วิธีการชำระเงิน",
               "เรารับบัตรเครดิต บัตรเดบิต และการโอนเงินผ่านธนาคาร"),
        "de": ("Zahlungsarten", "Wir akzeptieren Kreditkarten, Debitkarten und Banküberweisung."),
        "it": ("Metodi di pagamento", "Accettiamo carte di credito, carte di debito e bonifico bancario."),
        "az": ("Ödəniş üsulları", "Kredit kartı, debet kartı və bank köçürməsi qəbul edirik."),
    },
}


def add_article(workspace, translations: dict[str, tuple[str, str]]):
    from threadline.knowledge.services import article_create, translation_save

    article = article_create(workspace=workspace)
    for locale, (title, body) in translations.items():
        translation_save(article=article, locale=locale, title=title, body_markdown=body, publish=True)
    return article


@pytest.fixture
def kb(workspace):
    """The test knowledge base: article key → Article."""
    return {key: add_article(workspace, texts) for key, texts in ARTICLES.items()}


@pytest.fixture
def bot_inbox(api_inbox):
    bot_settings_save(inbox=api_inbox, enabled=True)
    return api_inbox


_ids = itertools.count(1)


class Customer:
    """A customer writing to the API inbox through its signed webhook; every job runs after each message."""

    def __init__(self, client, inbox, run_jobs, contact_id: str = "cust-1", **contact_fields) -> None:
        self.client, self.inbox, self.run_jobs = client, inbox, run_jobs
        self.contact_id, self.contact_fields = contact_id, contact_fields

    def says(self, text: str) -> Conversation:
        from tests.conftest import message_payload

        number = next(_ids)
        payload = message_payload(f"m-{number}", contact_id=self.contact_id, text=text,
                                  sent_at=_now_iso(), **self.contact_fields)
        response = post_signed(self.client, self.inbox, payload)
        assert response.status_code == 200, response.content
        self.run_jobs()
        return self.conversation()

    def conversation(self) -> Conversation:
        return Conversation.objects.filter(contact__identities__value=self.contact_id).latest("id")


def _now_iso() -> str:
    from django.utils import timezone

    return timezone.now().isoformat().replace("+00:00", "Z")


@pytest.fixture
def customer(client, bot_inbox, run_jobs):
    return Customer(client, bot_inbox, run_jobs)


def bot_messages(conversation) -> list[Message]:
    return list(
        Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BOT, direction=Direction.OUTBOUND)
        .order_by("id")
    )


def bot_notes(conversation) -> list[Message]:
    return list(
        Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BOT, direction=Direction.NOTE)
        .order_by("id")
    )


def last_bot_text(conversation) -> str:
    messages = bot_messages(conversation)
    return messages[-1].text if messages else ""
