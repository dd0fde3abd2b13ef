"""The LMS round trip: whose file each download entry is, the files a gradebook import takes, and
fetching from and uploading to Canvas (the README's "From the LMS and back")."""
