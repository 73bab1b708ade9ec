"""The server for a real deployment: ``gunicorn -w 1 --threads 8 digest.app.wsgi:server``.

One process owns the database (``DIGEST_DB``): a second worker cannot open it and stops gunicorn
(exit 3, a worker that failed to boot) with how to run the server. There is no demo sign-in, and
the session cookie is Secure: serve it behind https.
"""

import sys

from digest.app.auth import ONE_PROCESS, secret_key
from digest.app.server import create_app
from digest.store.database import StoreBusy, StoreError, connect, database_path
from digest.store.returns import ReturnsStore
from digest.views.sources import Sources

path = database_path()
try:
    store = ReturnsStore(connect(path))
except StoreBusy as busy:  # another process (a second gunicorn worker?) holds the database
    print(f"{busy} {ONE_PROCESS}", file=sys.stderr)
    raise SystemExit(3) from None  # gunicorn's "worker failed to boot": it stops, not retries
except StoreError as problem:  # a database that needs recovery: say so, and stop for good
    print(f"digest: {problem}", file=sys.stderr)
    raise SystemExit(3) from None
app = create_app(
    Sources.open(store), secret=secret_key(path.with_suffix(".secret")), secure_cookies=True
)
server = app.server
