"""Duplicate detection: initiatives of other business units that look alike (trigram
matching), and the CoE's review, link, dismiss and merge."""
