"""A tiny calculator package (selfcoder test fixture)."""

from calc.ops import add, clamp, mean, subtract

__all__ = ["add", "clamp", "mean", "subtract"]
