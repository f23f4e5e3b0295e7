"""Routing services: the one door for changes to routing settings, assignment, SLA timers and surveys."""
