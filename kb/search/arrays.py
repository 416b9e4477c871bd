"""Whole-array scoring of the Whoosh backend's queries.

Whoosh evaluates a query posting by posting in Python: an And of unions over a few thousand
candidate articles leapfrogs through every posting list (30 to 200 ms at 100,000 articles), and
BM25F's block-quality skipping finds nothing to skip when articles have similar lengths. The
queries `kb.search.whoosh` builds are Ands and Ors of terms, with the odd phrase or prefix, so here
a term's postings are read a block at a time into arrays and the tree is combined with numpy: the
same BM25F figure Whoosh gives each article, for every article at once, and exact match counts.

Anything other than a term, an And, an Or, `Every` or the null query (a phrase, a prefix) is
handed to Whoosh's own matcher and its matches and scores are read back, so every query keeps its
meaning; only the common shapes take the fast path. What is read from a segment is kept for as
long as the segment exists (`SegmentCache`): segments never change once written.
"""

from __future__ import annotations

import pickle
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from whoosh import query as Q  # noqa: N812 - Whoosh's own convention
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3TermsReader,
)
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

# Whoosh stores a field's length per document as one byte; this is its decoding table.
_LENGTHS = np.array([byte_to_length(b) or 1 for b in range(256)], dtype=np.float64)


@dataclass
class Sparse:
    """The documents a query matches (ascending, no repeats) and their scores."""

    ids: Ints
    scores: Floats


@dataclass
class Dense:
    """Matched flags and scores for every document of the searcher."""

    matched: Bools
    scores: Floats


Result = Sparse | Dense


def dense(result: Result, size: int) -> Dense:
    if isinstance(result, Dense):
        return result
    matched = np.zeros(size, dtype=np.bool_)
    scores = np.zeros(size, dtype=np.float64)
    matched[result.ids] = True
    scores[result.ids] = result.scores
    return Dense(matched, scores)


def read_term(reader: Any, fieldname: str, text: bytes) -> tuple[Ints, Floats]:
    """A term's document numbers and weights in one segment, read from the term's own bytes
    (`read_w3`) or, for a short list, from the term dictionary.

    Whoosh's matchers seek and read in a file object that every thread searching the segment
    shares; the term dictionary and `get` read at an offset, which threads may do at once.
    """
    terms = getattr(reader, "_terms", None)
    if isinstance(terms, W3TermsReader):
        info = reader.term_info(fieldname, text)
        if info.is_inlined():  # a short list kept in the term dictionary itself
            inlined_ids, inlined_weights, _ = info.inlined_postings()
            return np.array(inlined_ids, dtype=np.int64), np.array(inlined_weights, dtype=float)
        offset, length = info.extent()
        if isinstance(length, tuple):  # Whoosh 2.7 reads it back as struct.unpack's 1-tuple
            length = length[0]
        found = read_w3(terms._postfile.get(offset, length), False)
        if found is not None:
            return found
    # Another codec's reader: walk Whoosh's matcher, posting by posting.
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):
        # The filter has moved its child past the deleted documents at the start: the list is
        # read from its beginning (deletions are masked per searcher, as arrays).
        matcher = matcher.child
        matcher.reset()
    ids: list[int] = []
    weights: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


# A Whoosh 2.7 posting list is the tag b"W3Bl", then blocks of up to 128 postings. A block is
# its signed length (negative for the last block), a pickled info tuple (count, last id, top
# weight, compression level, shortest and longest length) and its data: a pickled tuple, zlib-
# compressed, of (delta-coded ids, weights, values). The values are each posting's positions,
# pickled one by one: unpickling them is nine tenths of the time Whoosh spends on a block, and a
# search needs only the ids and weights, which come first. So only the start of the data is
# inflated, the end of the weights is found from the block's count, and only those bytes are
# unpickled. Anything not laid out that way is read whole.
#
# _INDEX_FILES: these bytes are the index's own files, under `instance/`, written by this
# application; Whoosh unpickles them the same way on every search.
_BLOCK_LENGTH = struct.Struct("!i")
_IDS_END = b"tq\x00"  # the end of a tuple of 4 ids or more, then the block's first memo entry
_FLOAT = 9  # a pickled float: the opcode G and 8 bytes
_HEAD = 2048  # 128 small ids and 128 weights take about 1,500 bytes
_TUPLE2_STOP = b"\x86."  # make the two unpickled parts a tuple, and end the pickle


def _weights_end(head: bytes, start: int, count: int) -> int:
    """Where the pickled weights that start at `start` end, or -1."""
    if start >= len(head):
        return -1
    opcode = head[start]
    if opcode == 0x4E:  # None: every weight is 1
        return start + 1
    if opcode == 0x28 and count > 3:  # MARK, the floats, TUPLE, memo
        return start + 1 + count * _FLOAT + 3
    if opcode == 0x47 and count in (2, 3):  # the floats, TUPLE2 or TUPLE3, memo; or one float
        after = start + count * _FLOAT
        if head[after : after + 2] in (b"\x86q", b"\x87q"):
            return after + 3
    if opcode == 0x47:  # one float for every posting
        return start + _FLOAT
    return -1


def _block_head(head: bytes, count: int) -> tuple[Any, Any] | None:
    """The ids and weights at the start of a block's data, without its values."""
    if count > 3:
        ids_end = head.find(_IDS_END, 3) + len(_IDS_END)
    else:  # a tuple of 1 to 3 ids: TUPLE1..3 and its memo, found by trying each id width
        ids_end = -1
        for end in range(2 + 2 * count, min(len(head), 2 + 5 * count) + 1):
            tuple_op, memo = head[end : end + 1], head[end + 1 : end + 3]
            if tuple_op in (b"\x85", b"\x86", b"\x87") and memo == b"q\x00":
                ids_end = end + 3
                break
    if ids_end < 3:
        return None
    end = _weights_end(head, ids_end, count)
    if end < 0 or end > len(head):
        return None
    try:
        ids, weights = pickle.loads(head[:end] + _TUPLE2_STOP)  # noqa: S301 - see _INDEX_FILES
    except Exception:  # a misread layout: the caller reads the block whole
        return None
    if not isinstance(ids, tuple) or len(ids) != count:
        return None
    if isinstance(weights, tuple) and len(weights) != count:
        return None
    return ids, weights


def read_w3(region: bytes, byteids: bool) -> tuple[Ints, Floats] | None:
    """The ids and weights of one posting list's bytes; None if they are not laid out as
    Whoosh 2.7 writes them (the caller then reads the list through Whoosh)."""
    if region[:4] != WHOOSH3_HEADER_MAGIC:
        return None
    view = memoryview(region)
    pos = 4
    counts: list[int] = []
    ids: list[int] = []
    weights: list[float] = []
    while True:
        if pos + 4 > len(region):
            return None
        (length,) = _BLOCK_LENGTH.unpack_from(region, pos)
        end = pos + 4 + abs(length)
        info = pickle.loads(view[pos + 4 : end])  # noqa: S301 - stops at the info's own end
        count, compression = info[0], info[3]
        # Pickling is deterministic: the info takes as many bytes as it does once re-pickled.
        start = pos + 4 + len(pickle.dumps(info, 2))
        if region[start - 1] != 0x2E:  # the info's STOP opcode
            return None
        data = view[start:end]
        head = zlib.decompressobj().decompress(data, _HEAD) if compression else bytes(data[:_HEAD])
        found = _block_head(head, count)
        if found is None:
            whole = zlib.decompress(data) if compression else bytes(data)
            block_ids, block_weights, _ = pickle.loads(whole)  # noqa: S301
            if len(block_ids) != count:
                return None
        else:
            block_ids, block_weights = found
        counts.append(count)
        ids.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        pos = end
        if length < 0:
            break
    numbers = np.array(ids, dtype=np.int64)
    if not byteids:
        # Ids are delta-coded from 0 within each block: a running sum, restarted per block.
        sums = np.cumsum(numbers)
        sizes = np.array(counts, dtype=np.int64)
        starts = np.cumsum(sizes) - sizes
        numbers = sums - np.repeat(sums[starts] - numbers[starts], sizes)
    return numbers, np.array(weights, dtype=np.float64)


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: document numbers (the segment's own), weights, and
    the field's length in each of those documents."""

    ids: NDArray[np.int32]
    weights: NDArray[np.float32]
    lengths: NDArray[np.float32]

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.weights.nbytes + self.lengths.nbytes


class SegmentCache:
    """What searches read from segments, kept as arrays for as long as their segment exists.

    A Whoosh segment never changes once written (a deletion only marks documents, and those are
    masked per searcher), so the arrays survive every searcher the index opens after a write.
    Field lengths and the typo dictionary's words are kept per segment and field. Posting lists
    are kept up to a budget in bytes, least recently used out: a knowledge base's queries keep
    coming back to the same few hundred common words, whose long lists are what a query spends
    its time reading, while a rare word's list is a block or two and quick to read again.
    """

    def __init__(self, budget_bytes: int = 64 * 2**20) -> None:
        self.budget_bytes = budget_bytes
        self._lengths: dict[tuple[str, str], NDArray[np.float32]] = {}
        self._words: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._postings: OrderedDict[tuple[str, str, bytes], Postings] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def postings_bytes(self) -> int:
        return self._bytes

    def lengths(self, reader: Any, fieldname: str) -> NDArray[np.float32]:
        key = (_segment_id(reader), fieldname)
        found = self._lengths.get(key)
        if found is None:
            found = self._read_lengths(reader, fieldname)
            self._lengths[key] = found
        return found

    @staticmethod
    def _read_lengths(reader: Any, fieldname: str) -> NDArray[np.float32]:
        size = reader.doc_count_all()
        column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        if column is None:
            return np.ones(size, dtype=np.float32)
        raw = column._dbfile.get(column._basepos, column._count)
        codes = np.zeros(size, dtype=np.uint8)
        codes[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)[:size]
        return _LENGTHS[codes].astype(np.float32)

    def postings(self, reader: Any, fieldname: str, text: bytes) -> Postings:
        key = (_segment_id(reader), fieldname, text)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        ids, weights = read_term(reader, fieldname, text)
        found = Postings(
            ids.astype(np.int32),
            weights.astype(np.float32),
            self.lengths(reader, fieldname)[ids],
        )
        size = found.nbytes + _ENTRY_OVERHEAD
        if size > self.budget_bytes:
            return found
        with self._lock:
            if key not in self._postings:
                self._postings[key] = found
                self._bytes += size
            while self._bytes > self.budget_bytes:
                _, dropped = self._postings.popitem(last=False)
                self._bytes -= dropped.nbytes + _ENTRY_OVERHEAD
        return found

    def vocabulary(self, reader: Any, fieldname: str) -> dict[str, list[str]]:
        """A field's words in one segment, by first letter (typo corrections keep it)."""
        if reader.segment() is None:  # an empty index
            return {}
        key = (_segment_id(reader), fieldname)
        found = self._words.get(key)
        if found is None:
            found = {}
            for term in reader.lexicon(fieldname):
                word = term.decode() if isinstance(term, bytes) else str(term)
                if word:
                    found.setdefault(word[0], []).append(word)
            self._words[key] = found
        return found

    def keep_only(self, segment_ids: set[str]) -> None:
        """Forget the segments a merge has removed."""
        with self._lock:
            for key in [k for k in self._lengths if k[0] not in segment_ids]:
                del self._lengths[key]
            for key in [k for k in self._words if k[0] not in segment_ids]:
                del self._words[key]
            for pkey in [k for k in self._postings if k[0] not in segment_ids]:
                self._bytes -= self._postings.pop(pkey).nbytes + _ENTRY_OVERHEAD


_ENTRY_OVERHEAD = 400  # bytes of Python objects per cached list, counted against the budget


def _segment_id(reader: Any) -> str:
    return str(reader.segment().segment_id())


class ArrayScorer:
    """Evaluates queries over one searcher (all its segments) as arrays of document numbers."""

    def __init__(self, searcher: Any, cache: SegmentCache) -> None:
        self.searcher = searcher
        self.size = searcher.doc_count_all()
        self.cache = cache
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.weighting = searcher.weighting
        alive = np.ones(self.size, dtype=np.bool_)
        for reader, offset in self.leaves:
            deleted = list(reader.deleted_docs_set) if reader.has_deletions() else []
            if deleted:
                alive[np.array(deleted, dtype=np.int64) + offset] = False
        self.alive = alive

    def segment_ids(self) -> set[str]:
        return {segment.segment_id() for reader, _ in self.leaves if (segment := reader.segment())}

    def evaluate(self, query: Any) -> Result:
        if isinstance(query, Q.Term):
            return self._term(query)
        if isinstance(query, Q.And):
            return self._and(query)
        if isinstance(query, Q.Or) and not query.minmatch and query.scale is None:
            return self._or(query)
        if isinstance(query, type(Q.NullQuery)):
            return Sparse(np.zeros(0, dtype=np.int64), np.zeros(0))
        if isinstance(query, Q.Every) and query.fieldname in (None, "", "*"):
            ids = np.flatnonzero(self.alive).astype(np.int64)
            return Sparse(ids, np.full(len(ids), float(query.boost)))
        return self._whoosh(query)

    def _term(self, query: Any) -> Result:
        fieldname = query.fieldname
        schema = self.searcher.schema
        if fieldname not in schema or not isinstance(self.weighting, BM25F):
            return self._whoosh(query)
        field = schema[fieldname]
        try:
            text = field.to_bytes(query.text)
        except ValueError:
            return self.evaluate(Q.NullQuery)
        parts_ids: list[Ints] = []
        parts_scores: list[Floats] = []
        idf = avgfl = 0.0
        b = self.weighting._field_B.get(fieldname, self.weighting.B)
        k1 = self.weighting.K1
        for reader, offset in self.leaves:
            if (fieldname, text) not in reader:
                continue
            if not parts_ids and field.scorable:
                idf = self.searcher.idf(fieldname, text)
                avgfl = self.searcher.avg_field_length(fieldname) or 1
            found = self.cache.postings(reader, fieldname, text)
            weights = found.weights.astype(np.float64)
            if field.scorable:
                norm = (1 - b) + b * found.lengths.astype(np.float64) / avgfl
                scores = idf * (weights * (k1 + 1)) / (weights + k1 * norm)
            else:  # an ID or keyword field: Whoosh scores a match by its weight
                scores = weights
            parts_ids.append(found.ids.astype(np.int64) + offset)
            parts_scores.append(scores * query.boost)
        if not parts_ids:
            return self.evaluate(Q.NullQuery)
        ids = np.concatenate(parts_ids)
        scores = np.concatenate(parts_scores)
        keep = self.alive[ids]
        return Sparse(ids[keep], scores[keep])

    def _or(self, query: Any) -> Result:
        parts = [self.evaluate(q) for q in query.subqueries]
        if len(parts) == 1:
            return self._boosted(parts[0], query.boost)
        matched = np.zeros(self.size, dtype=np.bool_)
        scores = np.zeros(self.size, dtype=np.float64)
        for part in parts:
            if isinstance(part, Sparse):
                matched[part.ids] = True
                scores[part.ids] += part.scores
            else:
                matched |= part.matched
                scores += part.scores
        return self._boosted(Dense(matched, scores), query.boost)

    def _and(self, query: Any) -> Result:
        if not query.subqueries:
            return self.evaluate(Q.NullQuery)
        parts = [self.evaluate(q) for q in query.subqueries]
        if len(parts) == 1:
            return self._boosted(parts[0], query.boost)
        first = dense(parts[0], self.size)
        matched = first.matched.copy()
        scores = first.scores.copy()
        for part in parts[1:]:
            full = dense(part, self.size)
            matched &= full.matched
            scores += full.scores
        scores[~matched] = 0.0
        return self._boosted(Dense(matched, scores), query.boost)

    @staticmethod
    def _boosted(result: Result, boost: float) -> Result:
        if boost == 1.0:
            return result
        if isinstance(result, Sparse):
            return Sparse(result.ids, result.scores * boost)
        return Dense(result.matched, result.scores * boost)

    def _whoosh(self, query: Any) -> Result:
        """Whoosh's own matcher, segment by segment, read back into arrays."""
        context = self.searcher.context()
        ids: list[int] = []
        scores: list[float] = []
        for sub, offset in self.searcher.leaf_searchers():
            matcher = query.matcher(sub, context)
            while matcher.is_active():
                ids.append(matcher.id() + offset)
                scores.append(matcher.score())
                matcher.next()
        # Each segment's matches come in order, and segments in order of their offsets.
        return Sparse(np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float64))


def top(scores: Floats, mask: Bools, offset: int, limit: int) -> tuple[Ints, int]:
    """The document numbers of one page among `mask`, best score first and, among equal
    scores, lowest document number first (as Whoosh orders them); and how many `mask` holds."""
    candidates = np.flatnonzero(mask)
    total = len(candidates)
    wanted = offset + limit
    if total == 0 or offset >= total:
        return np.zeros(0, dtype=np.int64), total
    values = scores[candidates]
    if total > wanted * 4:
        # Keep every candidate scoring at least the wanted-th best, ties included, then sort
        # only those.
        kth = np.partition(values, total - wanted)[total - wanted]
        keep = values >= kth
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))
    return candidates[order][offset:wanted].astype(np.int64), total
