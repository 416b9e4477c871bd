"""One ordered stream per customer of everything that happened with them."""
