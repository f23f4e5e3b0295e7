"""Email intake that needs state or long-lived connections: the SMTP listener and IMAP polling."""
