"""Satisfaction surveys (CSAT): one question (1 to 5, and a comment) sent to a customer after a
solved ticket or an answered call, by text or e-mail, answered by a digit or on a public page
(docs/surveys.md)."""
