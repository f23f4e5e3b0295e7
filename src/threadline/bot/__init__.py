"""The bot: answers customers from the knowledge base and hands over to a person well."""
