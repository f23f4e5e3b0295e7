"""Phone channels: Twilio Voice (``twilio_voice``) and any phone system through the generic CTI API (``cti``).

Both turn a provider's call notifications into normalised ``CallEvent``s; ``threadline.calls`` stores the
call, logs it in the caller's conversation and pops the caller's profile on the agents' screens.
``numbers`` holds the phone-number handling the two share.
"""

from threadline.connectors.voice.cti import CtiConnector
from threadline.connectors.voice.twilio_voice import TwilioVoiceConnector

__all__ = ["CtiConnector", "TwilioVoiceConnector"]
