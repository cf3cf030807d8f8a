"""Studies of the training step's speed on the CPU, and a roofline projection for a GPU."""
