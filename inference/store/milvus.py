"""Milvus as the gallery's vector store, for galleries past one machine: pymilvus only.

`--store milvus:PATH` keeps the vectors in milvus-lite (one local file: a laptop,
CI); `--store milvus:http://HOST:19530` in a Milvus server or cluster, with the
same code. A server that asks for credentials gets them from the URI
(`http://USER:PASSWORD@HOST:19530`) or from MILVUS_TOKEN, or MILVUS_USER and MILVUS_PASSWORD;
they are never printed. The local index (inference/store/index.py) still decides what is new,
changed or gone and embeds only that; each gallery folder's rows are then mirrored into one
collection per model and policy that every gallery shares, the gallery its partition key (a
search reads its own gallery's rows only), and queries are answered by Milvus.

A row's primary key is its path and its vector's checksum together, so a changed
photo is a new row: a sync inserts new rows first, the engine swaps in its new
view, and only then are the rows no view needs any more deleted (`MilvusRanker.retire`).
A search therefore sees the old state or the new one, never half of each: rows it
does not know are skipped, and it asks Milvus for more until it has k of its own.
Each row also carries the content-policy flag, kept current when a release, a revoke or a
caption changes the verdict (`MilvusRanker.set_restricted`), the path, when the photo was
taken and the file's size and modification time as scalar fields, so a deployment can
filter inside Milvus (`restricted == false`); by default restricted rows come back
flagged, as with the local store, and are shown as the disclaimer tile.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from inference.errors import UserError
from inference.store.projection import Projection
from inference.store.vectors import LEVELS, Int8Rows

STORE_PREFIX = "milvus:"
WRITE_BATCH = 512  # rows per insert: 512 x 1,664 floats is about 3.4 MB a request
KEY_FIELD, VECTOR_FIELD, GALLERY_FIELD = "key", "vector", "gallery"
MAX_PATH_CHARS = 4096
SCHEMA = 2  # of the shared collection (its name carries it): 2: galleries share it, flags kept current
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
        for secret in _credentials(uri).values():  # a server may quote what it was sent
            reason = reason.replace(secret, "***")
        raise StoreError(
            f"the Milvus store at {redacted(uri)} cannot be reached ({reason}); start it, or search "
            "the local index with --store local"
        ) from None


def _is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://"))


def redacted(uri: str) -> str:
    """`uri` without the credentials it may carry: what messages and logs may show."""
    if not _is_server(uri):
        return uri
    parts = urlsplit(uri)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return str(urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)))


def _credentials(uri: str) -> dict[str, str]:
    """user and password from the URI, else MILVUS_TOKEN, else MILVUS_USER and MILVUS_PASSWORD."""
    parts = urlsplit(uri) if _is_server(uri) else None
    if parts is not None and parts.username:
        return {"user": parts.username, "password": parts.password or ""}
    if os.environ.get("MILVUS_TOKEN"):
        return {"token": os.environ["MILVUS_TOKEN"]}
    if os.environ.get("MILVUS_USER"):
        return {"user": os.environ["MILVUS_USER"], "password": os.environ.get("MILVUS_PASSWORD", "")}
    return {}


@cache
def _client(uri: str):
    """One client per store and process (milvus-lite allows one opener of its file)."""
    from pymilvus import MilvusClient

    # pymilvus logs a warning per query iterator against milvus-lite (no server clock), and an
    # error with its traceback for each call that finds the server gone: `reaching` says that in one line
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if not _is_server(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        return MilvusClient(uri)
    return MilvusClient(redacted(uri), **_credentials(uri))


def collection_name(model_id: str) -> str:
    """The collection every gallery folder shares for one model and policy (letters, digits and _)."""
    return f"photos{SCHEMA}_" + hashlib.sha1(model_id.encode()).hexdigest()[:24]


def gallery_key(gallery: Path | None) -> str:
    """A gallery folder's partition key value: "vectors" for vectors indexed elsewhere."""
    return (
        hashlib.sha1(str(gallery.resolve()).encode()).hexdigest()[:24] if gallery is not None else "vectors"
    )


def row_keys(paths: Sequence[Path], vectors: Int8Rows) -> list[str]:
    """Per row, "checksum|path": the checksum covers the stored vector, so a re-embedded photo
    makes a new row (a changed decision updates the row's flag in place)."""
    keys = []
    for start in range(0, len(vectors), 65_536):
        stop = min(start + 65_536, len(vectors))
        codes, scales = vectors.codes_block(start, stop), vectors.scales[start:stop]
        for offset in range(stop - start):
            row = start + offset
            digest = hashlib.sha1(codes[offset].tobytes())
            digest.update(scales[offset].tobytes())
            keys.append(f"{digest.hexdigest()[:16]}|{paths[row]}")
    return keys


class MilvusRanker:
    """The Ranker over one gallery part's rows, mirrored into the shared Milvus collection
    `name` under partition key `gallery`. Exact: brute-force inner product, so answers match
    the local store's exact ranking."""

    approximate = False

    def __init__(
        self,
        uri: str,
        name: str,
        gallery: str,
        paths: Sequence[Path],
        vectors: Int8Rows,
        restricted: np.ndarray,
        stamps: Sequence[tuple[int, int] | None],
        taken: np.ndarray | None = None,
    ) -> None:
        self.uri, self.name, self.gallery = uri, name, gallery
        self.vectors, self.paths, self.stamps = vectors, paths, stamps
        self.taken = taken if taken is not None else np.full(len(paths), -1, np.int64)
        self.restricted = np.asarray(restricted, bool).copy()
        self.filter = f'{GALLERY_FIELD} == "{gallery}"'
        keys = row_keys(paths, vectors)
        self.keys = keys
        if any(len(key) > MAX_PATH_CHARS for key in keys):
            raise StoreError(
                f"a path longer than {MAX_PATH_CHARS - 17} characters cannot be stored in Milvus"
            )
        self.row_of = {key: row for row, key in enumerate(keys)}
        with reaching(uri):
            self._ensure_collection(vectors.shape[1])
            stored = self._stored_keys()
            new = [row for row, key in enumerate(keys) if key not in stored]
            flipped = [
                row for row, key in enumerate(keys) if key in stored and stored[key] != self.restricted[row]
            ]
            self._write(new, self.client.insert)
            self._write(flipped, self.client.upsert)  # decided otherwise since they were stored
            if new or flipped:
                # seals the new rows into indexed segments: milvus-lite searched unsealed rows
                # one by one (10k rows: 0.9 s a query, 14 ms once flushed)
                for collection in self._collections():
                    self.client.flush(collection)
        self.stale = sorted(
            stored.keys() - self.row_of.keys()
        )  # deleted by `retire`, once no view needs them
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
        schema.add_field(GALLERY_FIELD, DataType.VARCHAR, max_length=32, is_partition_key=True)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("path", DataType.VARCHAR, max_length=MAX_PATH_CHARS)
        schema.add_field("size", DataType.INT64)
        schema.add_field("mtime_ns", DataType.INT64)
        schema.add_field("taken", DataType.INT64)  # inference/store/facts.py; -1: not known
        schema.add_field("restricted", DataType.BOOL)
        index = self.client.prepare_index_params()
        index.add_index(field_name=VECTOR_FIELD, index_type="FLAT", metric_type="IP")
        self.client.create_collection(self.name, schema=schema, index_params=index)

    def _stored_keys(self) -> dict[str, bool]:
        """This gallery's stored rows: key -> its restricted flag."""
        iterator = self.client.query_iterator(
            self.name, batch_size=4096, filter=self.filter, output_fields=[KEY_FIELD, "restricted"]
        )
        stored: dict[str, bool] = {}
        try:
            while batch := iterator.next():
                stored.update((row[KEY_FIELD], bool(row["restricted"])) for row in batch)
        finally:
            iterator.close()
        return stored

    def _write(self, rows: list[int], write) -> None:
        """`write` (the client's insert or upsert) each of `rows`, whole, in batches."""
        stamps = self.stamps
        for start in range(0, len(rows), WRITE_BATCH):
            batch = np.asarray(rows[start : start + WRITE_BATCH])
            stored, extra = self._stored_vectors(batch), self._extra_fields(batch)
            write(
                self.name,
                [
                    {
                        KEY_FIELD: self.keys[row],
                        GALLERY_FIELD: self.gallery,
                        VECTOR_FIELD: stored[i].tolist(),
                        **extra[i],
                        "path": str(self.paths[row]),
                        "size": int(stamps[row][0]) if stamps[row] else -1,  # type: ignore[index]
                        "mtime_ns": int(stamps[row][1]) if stamps[row] else -1,  # type: ignore[index]
                        "taken": int(self.taken[row]),
                        "restricted": bool(self.restricted[row]),
                    }
                    for i, row in enumerate(batch.tolist())
                ],
            )

    def _stored_vectors(self, rows: np.ndarray) -> np.ndarray:
        """What the vector field holds for `rows`: the full vectors [b, D]."""
        return self.vectors[rows]

    def _extra_fields(self, rows: np.ndarray) -> list[dict]:
        """Fields besides the common ones, per row of `rows` (`MilvusApproximateRanker`: codes)."""
        return [{} for _ in range(len(rows))]

    def set_restricted(self, restricted: np.ndarray) -> None:
        """Store the rows' flags [n] as decided now (a release, a revoke, a caption): the rows
        whose flag changed are written again, flushed before the next search."""
        changed = np.nonzero(np.asarray(restricted, bool) != self.restricted)[0].tolist()
        self.restricted = np.asarray(restricted, bool).copy()
        if changed:
            with reaching(self.uri):
                self._write(changed, self.client.upsert)
                self.client.flush(self.name)

    def retire(self) -> None:
        """Delete the rows of earlier states (call once the new view serves)."""
        with reaching(self.uri):
            for collection in self._collections():
                for start in range(0, len(self.stale), WRITE_BATCH):
                    self.client.delete(collection, ids=self.stale[start : start + WRITE_BATCH])
                if self.stale:
                    self.client.flush(collection)
        self.stale = []

    def _collections(self) -> list[str]:
        return [self.name]

    def _search(self, vector: list[float], limit: int, **extra) -> list:
        """The store's `limit` nearest hits to `vector`. A restarted server has its persisted
        rows loaded within a second but holds Bounded reads until its clock catches up (about
        20 s for Milvus 2.3.5 standalone): past BOUNDED_WAIT_S the rows it holds are read as
        they are. Every write of ours is flushed before a search, so they are among them."""
        from grpc import RpcError
        from pymilvus.exceptions import MilvusException

        # a small output field: with none, Milvus returns every field, vectors too
        request = {
            "data": [vector],
            "limit": limit,
            "filter": self.filter,
            "output_fields": ["restricted"],
            **extra,
        }
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


#: candidates the approximate store re-ranks with the full vectors (and the HNSW search breadth),
#: and its HNSW graph; chosen by `python -m bench.milvus_scale` (docs/engine-and-scale.md)
STORE_CANDIDATES = 256
HNSW = {"M": 16, "efConstruction": 128}
CODES_FIELD, SCALE_FIELD = "codes", "scale"
CODES_CHARS = 65_535  # VARCHAR's limit: base64 of up to 49,000 int8 codes


class MilvusApproximateRanker(MilvusRanker):
    """The store's approximate path: the model's projection of each row (inference/store/
    projection.py) under an HNSW index, the row's full int8 codes beside it (base64 in a VARCHAR:
    the Milvus 2.3 server allows one vector field per collection), returned with each candidate
    and re-ranked exactly, as the local approximate index does: no file on the serving machine
    is read to rank. A second collection read by primary key was measured too, and cost more
    (100k rows, 256 candidates: p95 55 ms for the read alone against 22 ms for the whole search)."""

    approximate = True

    def __init__(
        self,
        uri: str,
        name: str,
        gallery: str,
        paths,
        vectors: Int8Rows,
        restricted,
        stamps,
        taken=None,
        *,
        projection: Projection,
        candidates: int = STORE_CANDIDATES,
    ) -> None:
        self.projection, self.candidates = projection, candidates
        super().__init__(uri, name, gallery, paths, vectors, restricted, stamps, taken)

    def _ensure_collection(self, dim: int) -> None:
        from pymilvus import DataType

        if self.client.has_collection(self.name):
            self.client.load_collection(self.name)
            return
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(KEY_FIELD, DataType.VARCHAR, is_primary=True, max_length=MAX_PATH_CHARS)
        schema.add_field(GALLERY_FIELD, DataType.VARCHAR, max_length=32, is_partition_key=True)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=self.projection.axes.shape[1])
        schema.add_field(CODES_FIELD, DataType.VARCHAR, max_length=CODES_CHARS)
        schema.add_field(SCALE_FIELD, DataType.FLOAT)
        schema.add_field("path", DataType.VARCHAR, max_length=MAX_PATH_CHARS)
        schema.add_field("size", DataType.INT64)
        schema.add_field("mtime_ns", DataType.INT64)
        schema.add_field("taken", DataType.INT64)
        schema.add_field("restricted", DataType.BOOL)
        index = self.client.prepare_index_params()
        index.add_index(field_name=VECTOR_FIELD, index_type="HNSW", metric_type="IP", params=HNSW)
        self.client.create_collection(self.name, schema=schema, index_params=index)

    def _stored_vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.projection.rows(self.vectors[rows])

    def _extra_fields(self, rows: np.ndarray) -> list[dict]:
        codes = self.vectors.take(rows)
        return [
            {
                CODES_FIELD: base64.b64encode(codes.codes[i].tobytes()).decode(),
                SCALE_FIELD: float(codes.scales[i]),
            }
            for i in range(len(rows))
        ]

    def top(self, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
        """The candidates of the projected query, re-ranked with their full vectors, best first."""
        k = min(k, len(self.row_of) - (exclude is not None))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        limit = min(max(self.candidates, 4 * k) + 1 + len(self.stale), 16_384)
        projected = self.projection.query(np.asarray(query, np.float32)).tolist()
        extra = {"search_params": {"params": {"ef": limit}}, "output_fields": [CODES_FIELD, SCALE_FIELD]}
        with reaching(self.uri):
            hits = self._search(projected, limit, **extra)
        known = [hit for hit in hits if self.row_of.get(hit.id, exclude) != exclude]
        if not known:
            return np.zeros(0, dtype=np.int64)
        full = np.stack([_full_vector(hit["entity"]) for hit in known])  # [c, D]
        rows = np.array([self.row_of[hit.id] for hit in known], dtype=np.int64)
        scores = full @ np.asarray(query, np.float32)
        return rows[np.lexsort((rows, -scores))[:k]]  # ties: lower row first, as the exact rankers


def _full_vector(entity: dict) -> np.ndarray:
    """A stored row's full vector [D] from its base64 int8 codes and scale."""
    codes = np.frombuffer(base64.b64decode(entity[CODES_FIELD]), np.int8).astype(np.float32)
    return codes * (entity[SCALE_FIELD] / LEVELS)
