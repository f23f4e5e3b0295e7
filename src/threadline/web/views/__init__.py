"""The agent workspace's pages: thin views that authorise, call one selector or service, and render."""
