"""Twilio messaging channels: SMS/MMS (``sms``) and WhatsApp through Twilio (``twilio_whatsapp``).

``signature`` checks ``X-Twilio-Signature``; ``messaging`` holds the SMS connector, which WhatsApp
extends in ``whatsapp``; ``errors`` maps REST error codes to plain words. Voice is a separate channel.
"""

from threadline.connectors.twilio.messaging import SmsConnector
from threadline.connectors.twilio.whatsapp import TwilioWhatsappConnector

__all__ = ["SmsConnector", "TwilioWhatsappConnector"]
