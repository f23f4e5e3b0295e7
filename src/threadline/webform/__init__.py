"""The web form channel's public side: the form page, its embed script, spam protection and settings."""
