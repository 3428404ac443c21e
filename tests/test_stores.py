"""
One suite for every L{IPageStore}, run against each store.
"""

from __future__ import absolute_import, division

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from nevowcache import CacheEntry, CacheKey, IPageStore, MemoryStore


def makeKey(path=b"p", page="tests.Page", host=b"example.com"):
    """
    A key for C{http://host:8080/path}.
    """
    return CacheKey((b"http", host, 8080, (path,), (), ()), (page, (), None))


def makeEntry(key, body=b"body", generation=None, created=0.0):
    """
    An entry as the engine stores it.
    """
    return CacheEntry(key, 200, b"OK",
                      ((b"content-type", (b"text/html",)), (b"x-a", (b"1", b"2"))),
                      body, created, generation, lastModified=12345, etag=b'"e"')



class StoreTestsMixin(object):
    """
    What every L{IPageStore} must do.  Mix into a test case that defines
    C{makeStore()} and C{resultOf(deferred)} (C{successResultOf} for stores
    that answer at once; waiting on the reactor for network stores).
    """

    def setUp(self):
        self.store = self.makeStore()


    def resultOf(self, d):
        return self.successResultOf(d)


    def lookup(self, key):
        return self.resultOf(self.store.lookup(key))


    def storeEntry(self, key, entry):
        return self.resultOf(self.store.store(key, entry))


    def test_interface(self):
        """
        The store provides L{IPageStore}.
        """
        self.assertTrue(verifyObject(IPageStore, self.store))


    def test_missIsNone(self):
        """
        Looking up a key never stored gives no entry and a generation.
        """
        entry, generation = self.lookup(makeKey())
        self.assertIsNone(entry)
        self.assertEqual(generation.judge(generation.stamp()), "valid")


    def test_roundTrip(self):
        """
        A stored entry comes back with every field intact.
        """
        key = makeKey()
        _, generation = self.lookup(key)
        entry = makeEntry(key, body=b"\x00\xff<html>" * 100, generation=generation.stamp(),
                          created=1234.5)
        self.assertTrue(self.storeEntry(key, entry))
        got, _ = self.lookup(key)
        self.assertEqual(got.key, key)
        for name in ("code", "message", "headers", "body", "created",
                     "lastModified", "etag"):
            self.assertEqual(getattr(got, name), getattr(entry, name), name)
        self.assertEqual(tuple(got.generation), tuple(entry.generation))


    def test_keysDoNotMix(self):
        """
        Entries of different keys, even keys whose parts only differ in where
        their bytes fall, stay apart.
        """
        keys = [makeKey(b"a:b", "x"), makeKey(b"a", ":bx"), makeKey(b"a", "b:x"),
                makeKey(b"p", host=b"a.example"), makeKey(b"p", host=b"b.example")]
        for i, key in enumerate(keys):
            self.storeEntry(key, makeEntry(key, body=b"body %d" % (i,)))
        for i, key in enumerate(keys):
            self.assertEqual(self.lookup(key)[0].body, b"body %d" % (i,))


    def test_delete(self):
        """
        A deleted entry is gone; deleting a missing key is not an error.
        """
        key = makeKey()
        self.storeEntry(key, makeEntry(key))
        self.resultOf(self.store.delete(key))
        self.assertIsNone(self.lookup(key)[0])
        self.resultOf(self.store.delete(key))


    def test_softInvalidate(self):
        """
        After a soft invalidation of its URL an entry is stale; other URLs'
        entries stay valid.
        """
        key, other = makeKey(b"p"), makeKey(b"q")
        for k in (key, other):
            _, generation = self.lookup(k)
            self.storeEntry(k, makeEntry(k, generation=generation.stamp()))
        self.resultOf(self.store.invalidate(key.url, False))
        entry, generation = self.lookup(key)
        self.assertEqual(generation.judge(entry.generation), "stale")
        entry, generation = self.lookup(other)
        self.assertEqual(generation.judge(entry.generation), "valid")


    def test_hardInvalidate(self):
        """
        After a hard invalidation an entry of that URL is gone.
        """
        key = makeKey()
        _, generation = self.lookup(key)
        self.storeEntry(key, makeEntry(key, generation=generation.stamp()))
        self.resultOf(self.store.invalidate(key.url, True))
        entry, generation = self.lookup(key)
        self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")


    def test_fencedStore(self):
        """
        An entry whose render started before an invalidation is not stored.
        """
        key = makeKey()
        _, before = self.lookup(key)
        self.resultOf(self.store.invalidate(key.url, False))
        self.assertFalse(self.storeEntry(key, makeEntry(key, generation=before.stamp())))
        self.assertIsNone(self.lookup(key)[0])
        _, after = self.lookup(key)
        self.assertTrue(self.storeEntry(key, makeEntry(key, generation=after.stamp())))


    def test_clear(self):
        """
        C{clear(True)} makes every entry gone; C{clear(False)} stale.
        """
        keys = [makeKey(b"p"), makeKey(b"q")]
        for k in keys:
            _, generation = self.lookup(k)
            self.storeEntry(k, makeEntry(k, generation=generation.stamp()))
        self.resultOf(self.store.clear(False))
        for k in keys:
            entry, generation = self.lookup(k)
            self.assertEqual(generation.judge(entry.generation), "stale")
        self.resultOf(self.store.clear(True))
        for k in keys:
            entry, generation = self.lookup(k)
            self.assertTrue(entry is None or generation.judge(entry.generation) == "gone")


    def test_stats(self):
        """
        C{stats()} has entries, bytes and evictions.
        """
        stats = self.store.stats()
        for name in ("entries", "bytes", "evictions"):
            self.assertIn(name, stats)



class MemoryStoreTests(StoreTestsMixin, SynchronousTestCase):
    """
    L{MemoryStore} passes the store suite, and bounds bytes and entries.
    """

    def makeStore(self):
        return MemoryStore(maxBytes=10000, maxEntries=5)


    def test_leastRecentlyUsedEvictedFirst(self):
        """
        Past C{maxEntries} the least recently used entry goes first.
        """
        keys = [makeKey(b"%d" % (i,)) for i in range(6)]
        for key in keys[:5]:
            self.storeEntry(key, makeEntry(key))
        self.lookup(keys[0])
        self.storeEntry(keys[5], makeEntry(keys[5]))
        self.assertIsNotNone(self.lookup(keys[0])[0])
        self.assertIsNone(self.lookup(keys[1])[0])
        self.assertEqual(self.store.stats()["evictions"], 1)


    def test_byteBound(self):
        """
        The bytes of all entries never exceed C{maxBytes}; every byte is
        accounted for when entries go.
        """
        for i in range(20):
            key = makeKey(b"%d" % (i,))
            self.storeEntry(key, makeEntry(key, body=b"x" * 3000))
            self.assertLessEqual(self.store.stats()["bytes"], 10000)
        self.resultOf(self.store.clear(True))
        self.assertEqual(self.store.stats()["bytes"], 0)


    def test_tooLargeNotStored(self):
        """
        An entry larger than C{maxEntryBytes} is not stored and evicts
        nothing.
        """
        small = makeKey(b"small")
        self.storeEntry(small, makeEntry(small))
        big = makeKey(b"big")
        self.assertFalse(self.storeEntry(big, makeEntry(big, body=b"x" * 20000)))
        self.assertIsNotNone(self.lookup(small)[0])
        self.assertEqual(self.store.stats()["tooLarge"], 1)


    def test_replaceAccountsBytes(self):
        """
        Replacing an entry frees the old one's bytes.
        """
        key = makeKey()
        self.storeEntry(key, makeEntry(key, body=b"x" * 100))
        self.storeEntry(key, makeEntry(key, body=b"x" * 50))
        self.assertEqual(self.store.stats()["bytes"], makeEntry(key, body=b"x" * 50).size)


    def test_forgottenUrlGenerationLeavesStale(self):
        """
        When more URLs were invalidated than C{maxUrls}, the oldest records
        are forgotten: their entries become stale, never fresh again, even
        if the URL is invalidated anew.
        """
        store = self.store = MemoryStore(maxUrls=1)
        key = makeKey(b"p")
        self.resultOf(store.invalidate(key.url, False))
        _, generation = self.lookup(key)
        self.storeEntry(key, makeEntry(key, generation=generation.stamp()))
        self.resultOf(store.invalidate(makeKey(b"q").url, False))
        entry, generation = self.lookup(key)
        self.assertEqual(generation.judge(entry.generation), "stale")
        self.resultOf(store.invalidate(key.url, False))
        entry, generation = self.lookup(key)
        self.assertEqual(generation.judge(entry.generation), "stale")


    def test_badBounds(self):
        """
        Bounds must be positive.
        """
        self.assertRaises(ValueError, MemoryStore, maxBytes=0)
        self.assertRaises(ValueError, MemoryStore, maxEntries=-1)
