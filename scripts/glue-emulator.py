"""A local AWS Glue Data Catalog emulator for the Glue catalog tests: moto's server, with the two
behaviours of the real service the tests depend on that moto 5 lacks.

Why this file exists: moto's Glue `UpdateTable` never reads `VersionId`, so a stale update is
accepted and every conflict test against it would pass without proving anything. Real Glue
refuses an `UpdateTable` whose `VersionId` is not the table's current version with
`ConcurrentModificationException`; this launcher makes moto do the same, atomically (the check
and the update under one lock, as the threaded server runs requests in parallel). It also pages
`GetTables` and `GetDatabases` by `MaxResults` / `NextToken`, as Glue does, so that the client's
paging is exercised (moto returns everything in one page).

Usage: python scripts/glue-emulator.py PORT   (binds 127.0.0.1 only; prints "ready" when up)
"""

from __future__ import annotations

import json
import sys
import threading
import time

from moto.core.responses import ActionResult
from moto.glue.exceptions import GlueClientError
from moto.glue.responses import GlueResponse
from moto.server import ThreadedMotoServer


class ConcurrentModificationException(GlueClientError):
    def __init__(self, message: str):
        super().__init__("ConcurrentModificationException", message)


_lock = threading.Lock()


def _locked(handler):
    def run(self):
        with _lock:
            return handler(self)

    return run


_update_table = GlueResponse.update_table


def _update_table_checked(self):
    params = self.parameters
    version = params.get("VersionId")
    if version is not None:
        table = self.glue_backend.get_table(params.get("DatabaseName"), params["TableInput"]["Name"])
        if str(version) != str(table._current_version):
            raise ConcurrentModificationException(
                f"Update table failed due to concurrent modifications: VersionId {version} is not the "
                f"current version {table._current_version}"
            )
    return _update_table(self)


def _paged(handler, list_key: str):
    """Serves `handler`'s full list `list_key` in pages of MaxResults, with an opaque NextToken."""

    def run(self):
        result = handler(self)
        params = self.parameters
        limit = params.get("MaxResults")
        if not limit:
            return result
        items = result.result[list_key]
        start = int(json.loads(params["NextToken"])["offset"]) if params.get("NextToken") else 0
        page = {list_key: items[start : start + int(limit)]}
        if start + int(limit) < len(items):
            page["NextToken"] = json.dumps({"offset": start + int(limit)})
        return ActionResult(page)

    return run


GlueResponse.update_table = _locked(_update_table_checked)
GlueResponse.create_table = _locked(GlueResponse.create_table)
GlueResponse.delete_table = _locked(GlueResponse.delete_table)
GlueResponse.create_database = _locked(GlueResponse.create_database)
GlueResponse.get_tables = _paged(GlueResponse.get_tables, "TableList")
GlueResponse.get_databases = _paged(GlueResponse.get_databases, "DatabaseList")


def main() -> None:
    port = int(sys.argv[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
