"""Saved views of the ticket list: named filters and an order, personal or shared with all staff."""
