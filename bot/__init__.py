"""permitbot: message in, reply out."""
