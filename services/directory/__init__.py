"""The directory: actors, their offerings, contact persons and members; regions; search."""
