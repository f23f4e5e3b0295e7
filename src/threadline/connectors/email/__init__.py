"""The email channel: SMTP, IMAP and provider-webhook intake, SMTP sending, threading and loop safety.

Modules: ``parsing`` (MIME → ParsedMail, charsets), ``folding`` (quoted replies and signatures),
``loops`` (auto-replies, bounces and DSNs), ``threading`` (reply tokens and Message-ID references),
``compose`` (outbound MIME and DKIM), ``smtp`` (sending), ``webhooks`` (Mailgun, SendGrid, Postmark) and
``connector`` (the EmailConnector tying them together). See docs/channels/email.md.
"""
