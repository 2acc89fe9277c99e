"""Subcommand implementations for :mod:`facerig.cli` (one module per command)."""
