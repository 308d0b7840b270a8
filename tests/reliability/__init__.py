"""Reliability tests (issue 6): load without loss."""
