"""The LMS round trip: whose file each download entry is, the files a gradebook import takes, and
the optional Canvas upload of grades and feedback (see ``README-section.md`` in this folder)."""
