"""Threadline: self-hosted omnichannel customer support. Every channel in one shared inbox."""

__version__ = "0.1.0"
