"""A tiny inventory library used by atoll's demo."""
