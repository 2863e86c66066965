"""Support code for the tests: grading runs, submission corpora, browser helpers."""
