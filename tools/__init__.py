"""Developer tools of the course (not part of the book)."""
