"""Studies of the robust mode's candidates: the labelled pool, the selectors replayed on it, the output stage."""
