"""The website live-chat widget: visitors, their sessions, the widget API and socket, and the embeddable script."""
