"""Start PQA Digest on the demo data: ``python app.py``, then open http://127.0.0.1:8050.

The first start builds the demo database of synthetic returns and the published benchmarks
(``data/digest.duckdb``, or the file named by ``DIGEST_DB``). Set ``DIGEST_HOST`` and
``DIGEST_PORT`` to serve elsewhere. ``digest serve`` does the same for any database.
"""

import os
import sys

from digest.app.auth import ONE_PROCESS, secret_key
from digest.app.server import create_app
from digest.demo import build_demo
from digest.store.database import StoreBusy, connect, database_path
from digest.store.returns import ReturnsStore
from digest.views.sources import Sources

path = database_path()
try:
    store = ReturnsStore(connect(path))
except StoreBusy as busy:  # another process (a second gunicorn worker?) holds the database
    print(f"{busy} {ONE_PROCESS}", file=sys.stderr)
    raise SystemExit(3) from None  # gunicorn's "worker failed to boot": it stops, not retries
print(build_demo(store))  # a database that already holds returns is left as it is
# Demo mode: a visitor on this machine is signed in as the demo's data lead without a password.
app = create_app(Sources.open(store), secret=secret_key(path.with_suffix(".secret")), demo=True)
server = app.server

if __name__ == "__main__":
    host, port = (
        os.environ.get("DIGEST_HOST", "127.0.0.1"),
        int(os.environ.get("DIGEST_PORT", "8050")),
    )
    print(f"PQA Digest is running: open http://{host}:{port} in a browser (Ctrl+C to stop).")
    app.run(host=host, port=port, debug=False)
