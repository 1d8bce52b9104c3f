"""The byte-bounded LRU behind the registry's read cache: its bound, its order, and fills that lost a race."""

from __future__ import annotations

from registry.storage.lru import ByteLRU


def sized(text: str) -> int:
    return len(text)


def test_entries_beyond_the_byte_bound_evict_the_least_recently_used() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=30, overhead=0, size=sized)
    for key in range(3):
        lru.put(key, "x" * 10)
    assert lru.stats().bytes == 30
    lru.put(3, "y" * 10)
    assert lru.get(0) is None
    assert [lru.get(k) for k in (1, 2, 3)] == ["x" * 10, "x" * 10, "y" * 10]
    assert lru.stats().bytes == 30
    assert lru.stats().evictions == 1


def test_the_bound_counts_each_entrys_overhead() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=100, overhead=40, size=sized)
    lru.put(1, "a" * 10)
    lru.put(2, "b" * 10)
    lru.put(3, "c" * 10)
    stats = lru.stats()
    assert (stats.entries, stats.bytes) == (2, 100)


def test_a_hit_refreshes_its_entry_so_cold_reads_push_out_others_first() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=3, overhead=0, size=sized)
    for key in "abc":
        lru.put(ord(key), key)
    assert lru.get(ord("a")) == "a"
    lru.put(ord("d"), "d")
    lru.put(ord("e"), "e")
    assert lru.get(ord("a")) == "a"
    assert lru.get(ord("b")) is None
    assert lru.get(ord("c")) is None


def test_a_value_larger_than_the_whole_bound_is_not_kept() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=10, overhead=0, size=sized)
    lru.put(1, "small")
    lru.put(2, "x" * 11)
    assert lru.get(2) is None
    assert lru.get(1) == "small"


def test_replacing_a_key_accounts_its_new_size() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=100, overhead=0, size=sized)
    lru.put(1, "x" * 10)
    lru.put(1, "x" * 30)
    assert lru.stats().bytes == 30
    assert lru.stats().entries == 1


def test_a_fill_begun_before_an_invalidation_is_dropped() -> None:
    lru: ByteLRU[str, str] = ByteLRU(max_bytes=100, overhead=0, size=sized)
    generation = lru.generation
    lru.discard("subject")
    assert lru.put("subject", "stale", generation=generation) is False
    assert lru.get("subject") is None
    assert lru.put("subject", "fresh", generation=lru.generation) is True
    assert lru.get("subject") == "fresh"


def test_filling_as_the_oldest_keeps_newer_entries_when_the_bound_is_reached() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=2, overhead=0, size=sized)
    assert lru.put(3, "c", oldest=True)
    assert lru.put(2, "b", oldest=True)
    assert not lru.put(1, "a", oldest=True)
    assert (lru.get(1), lru.get(2), lru.get(3)) == (None, "b", "c")


def test_hits_and_misses_are_counted() -> None:
    lru: ByteLRU[int, str] = ByteLRU(max_bytes=100, overhead=0, size=sized)
    lru.put(1, "a")
    lru.get(1)
    lru.get(1)
    lru.get(2)
    stats = lru.stats()
    assert (stats.hits, stats.misses) == (2, 1)
    assert round(stats.hit_ratio, 3) == 0.667
