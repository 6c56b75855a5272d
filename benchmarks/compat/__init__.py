"""Compatibility with other packages' versions."""
