"""Core helpers used by every layer and depending on none: types, frames, money, results."""
