"""ftready corpus: a package with two extension modules."""
