"""Template helpers of the help center."""
