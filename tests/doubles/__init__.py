"""Test doubles: an in-memory keyword store and faithful local HTTP doubles of hosted services."""
