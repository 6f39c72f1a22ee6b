"""Milvus as the gallery's vector store, for galleries past one machine: pymilvus only.

`--store milvus:PATH` keeps the vectors in milvus-lite (one local file: a laptop,
CI); `--store milvus:http://HOST:19530` in a Milvus server or cluster, with the
same code. The local index (inference/store/index.py) still decides what is new,
changed or gone and embeds only that; each gallery folder's rows are then
mirrored into a collection of its own, and queries are answered by Milvus.

A row's primary key is its path and its content checksum together, so a changed
photo is a new row: a sync inserts new rows first, the engine swaps in its new
view, and only then are the rows no view needs any more deleted (`MilvusRanker.retire`).
A search therefore sees the old state or the new one, never half of each: rows it
does not know are skipped, and it asks Milvus for more until it has k of its own.
Each row also carries the content-policy flag, the path and the file's size and
modification time as scalar fields, so a deployment can filter restricted rows
inside Milvus (`restricted == false`); by default restricted rows come back
flagged, as with the local store, and are shown as the disclaimer tile.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

from inference.errors import UserError
from inference.store.vectors import Int8Rows

STORE_PREFIX = "milvus:"
WRITE_BATCH = 512  # rows per insert: 512 x 1,664 floats is about 3.4 MB a request
KEY_FIELD, VECTOR_FIELD = "key", "vector"
MAX_PATH_CHARS = 4096
#: A search the server holds this long is waiting for its clock, not working (see _search)
BOUNDED_WAIT_S = 3.0
STORE_HELP = (  # --store of the CLI and the app
    "where vectors are ranked: local index files (default), milvus:FILE.db (milvus-lite) "
    "or milvus:http://HOST:19530 (a Milvus server or cluster)"
)


class StoreError(UserError):
    """A --store value that names no store this code can use."""


def parse_store(spec: str | None) -> str | None:
    """'local' or None -> None (the local index files); 'milvus:URI' -> URI."""
    if spec is None or spec == "local":
        return None
    if not spec.startswith(STORE_PREFIX) or not spec[len(STORE_PREFIX) :]:
        raise StoreError(
            f"--store {spec!r}: expected 'local', 'milvus:FILE.db' or 'milvus:http://HOST:19530'"
        )
    return spec[len(STORE_PREFIX) :]


@contextmanager
def reaching(uri: str) -> Iterator[None]:
    """Turns a failure to reach the store into a StoreError of one line naming it; the
    cached client is dropped, so the next call connects afresh (a restarted server)."""
    from grpc import RpcError
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except (MilvusException, ConnectionError, RpcError) as error:
        _client.cache_clear()
        reason = getattr(error, "message", None) or str(error).splitlines()[0]
        raise StoreError(
            f"the Milvus store at {uri} cannot be reached ({reason}); start it, or search the local "
            "index with --store local"
        ) from None


@cache
def _client(uri: str):
    """One client per store and process (milvus-lite allows one opener of its file)."""
    from pymilvus import MilvusClient

    # pymilvus logs a warning per query iterator against milvus-lite (no server clock), and an
    # error with its traceback for each call that finds the server gone: `reaching` says that in one line
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if not uri.startswith(("http://", "https://", "tcp://")):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri)


def collection_name(gallery: Path | None, model_id: str) -> str:
    """The collection of one gallery folder's rows for one model (letters, digits and _ only)."""
    where = str(gallery.resolve()) if gallery is not None else "vectors"
    return "gallery_" + hashlib.sha1(f"{where}|{model_id}".encode()).hexdigest()[:24]


def row_keys(paths: Sequence[Path], vectors: Int8Rows, restricted: np.ndarray) -> list[str]:
    """Per row, "checksum|path": the checksum covers the stored vector and the policy flag,
    so a re-embedded photo or a changed decision makes a new row."""
    keys = []
    for start in range(0, len(vectors), 65_536):
        stop = min(start + 65_536, len(vectors))
        codes, scales = vectors.codes_block(start, stop), vectors.scales[start:stop]
        for offset in range(stop - start):
            row = start + offset
            digest = hashlib.sha1(codes[offset].tobytes())
            digest.update(scales[offset].tobytes() + bytes([bool(restricted[row])]))
            keys.append(f"{digest.hexdigest()[:16]}|{paths[row]}")
    return keys


class MilvusRanker:
    """The Ranker over one gallery part's rows, mirrored into a Milvus collection.
    Exact: brute-force inner product, so answers match the local store's exact ranking."""

    approximate = False

    def __init__(
        self,
        uri: str,
        name: str,
        paths: Sequence[Path],
        vectors: Int8Rows,
        restricted: np.ndarray,
        stamps: Sequence[tuple[int, int] | None],
    ) -> None:
        self.uri, self.name = uri, name
        keys = row_keys(paths, vectors, restricted)
        if any(len(key) > MAX_PATH_CHARS for key in keys):
            raise StoreError(
                f"a path longer than {MAX_PATH_CHARS - 17} characters cannot be stored in Milvus"
            )
        self.row_of = {key: row for row, key in enumerate(keys)}
        with reaching(uri):
            self._ensure_collection(vectors.shape[1])
            stored = self._stored_keys()
            new = [row for row, key in enumerate(keys) if key not in stored]
            self._insert(new, keys, paths, vectors, restricted, stamps)
            if new:
                # seals the new rows into indexed segments: milvus-lite searched unsealed rows
                # one by one (10k rows: 0.9 s a query, 14 ms once flushed)
                self.client.flush(self.name)
        self.stale = sorted(stored - self.row_of.keys())  # deleted by `retire`, once no view needs them
        self.loaded = not new  # nothing had to be written
        self.written = len(new)

    @property
    def client(self):
        """The process's client of this store (made again after a failure: see `reaching`)."""
        return _client(self.uri)

    def _ensure_collection(self, dim: int) -> None:
        from pymilvus import DataType

        if self.client.has_collection(self.name):
            self.client.load_collection(self.name)  # a reopened collection starts released
            return
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(KEY_FIELD, DataType.VARCHAR, is_primary=True, max_length=MAX_PATH_CHARS)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("path", DataType.VARCHAR, max_length=MAX_PATH_CHARS)
        schema.add_field("size", DataType.INT64)
        schema.add_field("mtime_ns", DataType.INT64)
        schema.add_field("restricted", DataType.BOOL)
        index = self.client.prepare_index_params()
        index.add_index(field_name=VECTOR_FIELD, index_type="FLAT", metric_type="IP")
        self.client.create_collection(self.name, schema=schema, index_params=index)

    def _stored_keys(self) -> set[str]:
        iterator = self.client.query_iterator(self.name, batch_size=4096, output_fields=[KEY_FIELD])
        stored: set[str] = set()
        try:
            while batch := iterator.next():
                stored.update(row[KEY_FIELD] for row in batch)
        finally:
            iterator.close()
        return stored

    def _insert(self, rows, keys, paths, vectors: Int8Rows, restricted, stamps) -> None:
        for start in range(0, len(rows), WRITE_BATCH):
            batch = np.asarray(rows[start : start + WRITE_BATCH])
            floats = vectors[batch]
            self.client.insert(
                self.name,
                [
                    {
                        KEY_FIELD: keys[row],
                        VECTOR_FIELD: floats[i].tolist(),
                        "path": str(paths[row]),
                        "size": int(stamps[row][0]) if stamps[row] else -1,
                        "mtime_ns": int(stamps[row][1]) if stamps[row] else -1,
                        "restricted": bool(restricted[row]),
                    }
                    for i, row in enumerate(batch.tolist())
                ],
            )

    def retire(self) -> None:
        """Delete the rows of earlier states (call once the new view serves)."""
        with reaching(self.uri):
            for start in range(0, len(self.stale), WRITE_BATCH):
                self.client.delete(self.name, ids=self.stale[start : start + WRITE_BATCH])
            if self.stale:
                self.client.flush(self.name)
        self.stale = []

    def _search(self, vector: list[float], limit: int) -> list:
        """The store's `limit` nearest hits to `vector`. A restarted server has its persisted
        rows loaded within a second but holds Bounded reads until its clock catches up (about
        20 s for Milvus 2.3.5 standalone): past BOUNDED_WAIT_S the rows it holds are read as
        they are. Every write of ours is flushed before a search, so they are among them."""
        from grpc import RpcError
        from pymilvus.exceptions import MilvusException

        # a small output field: with none, Milvus returns every field, vectors too
        request = {"data": [vector], "limit": limit, "output_fields": ["restricted"]}
        try:
            return self.client.search(self.name, timeout=BOUNDED_WAIT_S, **request)[0]
        except (RpcError, MilvusException) as error:
            if not _held(error):
                raise
        return self.client.search(self.name, consistency_level="Eventually", **request)[0]

    def top(self, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        """Row indices of the k best rows for query [D], best first (ties: lower row first)."""
        k = min(k, len(self.row_of) - (exclude is not None))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        limit = k + 1 + len(self.stale)
        while True:
            with reaching(self.uri):
                hits = self._search(np.asarray(query, np.float32).tolist(), limit)
            found = [
                (-float(hit["distance"]), row) for hit in hits if (row := self.row_of.get(hit.id)) is not None
            ]
            found = [(score, row) for score, row in found if row != exclude]
            if len(found) >= k or len(hits) < limit:
                return np.array([row for _, row in sorted(found)[:k]], dtype=np.int64)
            limit *= 2  # rows of another state (a sync under way elsewhere) took places


#: How a search held past its deadline comes back: the client's deadline (gRPC), or the
#: server's own, which pymilvus retries until the deadline and then wraps
HELD_MESSAGES = ("context Done", "context deadline exceeded")


def _held(error: Exception) -> bool:
    """Whether a failed search was held past its deadline rather than refused or unreachable."""
    from grpc import RpcError, StatusCode

    code = error.code() if isinstance(error, RpcError) else getattr(error, "code", None)  # type: ignore[attr-defined]
    if code == StatusCode.DEADLINE_EXCEEDED:
        return True
    return code != StatusCode.UNAVAILABLE and any(text in str(error) for text in HELD_MESSAGES)
