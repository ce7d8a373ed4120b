"""The GPU estate: GPU types and their reference catalogue, pools with rate cards,
allocations with the capacity check."""
