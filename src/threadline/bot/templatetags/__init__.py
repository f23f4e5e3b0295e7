"""Template helpers of the bot."""
