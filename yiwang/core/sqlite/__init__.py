"""yiwang's SQLite database engine (``ENGINE: "yiwang.core.sqlite"``): Django's, with write
transactions queued in order instead of polling SQLite's lock (see :mod:`.base`)."""
