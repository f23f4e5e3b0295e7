"""Meta's messaging channels: Messenger, Instagram messaging and the WhatsApp Cloud API.

``common`` holds what the three share (handshake, X-Hub-Signature-256, Graph calls and their error codes,
the 24-hour window); ``messaging`` the Messenger-shaped events Messenger and Instagram share; one module
per channel kind on top. Contract: ../shared/contracts/CHANNELS.md §1.
"""
