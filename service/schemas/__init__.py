"""Marshmallow schemas: `profile` for what callers send, `responses` for what they get."""
