"""The vocabulary every part shares: the model, errors, THE calling rule, clocks and hall time.
Standard library only."""
