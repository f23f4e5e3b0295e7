"""Knowledge base: categories and articles with per-locale translations, the public help center and PDFs."""
