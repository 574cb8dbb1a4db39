"""physics package."""
