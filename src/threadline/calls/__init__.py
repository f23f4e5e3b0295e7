"""Phone calls: the call log, its entries in the caller's conversation, missed-call callbacks and the screen pop."""
