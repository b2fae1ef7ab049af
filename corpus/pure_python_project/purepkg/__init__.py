"""ftready corpus: a pure-Python fallback."""
