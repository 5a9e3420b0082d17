"""harden-ci: one reviewed spec in, hardened GitHub Actions workflows out."""

__version__ = "0.1.0"
