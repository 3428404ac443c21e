# -*- test-case-name: tests.test_sharedwire -*-
"""
The memcached and Redis stores on the wire: what they send, and what they
do with what comes back, over in-memory transports and a L{Clock}.

These complement the real-server tests in L{tests.test_stores}: here the
server's answers are scripted, so timeouts, late answers and answers to
nothing can be played exactly.
"""

from __future__ import absolute_import, division

from twisted.internet import defer, error
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransportWithDisconnection
from twisted.trial.unittest import SynchronousTestCase

from nevowcache import MemcachedStore, RedisStore
from nevowcache._stores.breaker import CircuitOpen
from nevowcache._stores.generations import urlTag
from nevowcache._stores.wire import encodeEntry

from tests.test_stores import makeEntry, makeKey

try:
    import txredisapi  # noqa: F401
except ImportError:
    _noRedisClient = "txredisapi is not installed"
else:
    _noRedisClient = None



class FakeEndpoint(object):
    """
    A client endpoint whose connections are in-memory transports.

    @ivar connections: C{(protocol, transport)} of each connection made.
    @ivar refuse: If true, connection attempts fail.
    """

    def __init__(self):
        self.connections = []
        self.attempts = 0
        self.refuse = False
        self.hold = False
        self.held = None


    def connect(self, factory):
        self.attempts += 1
        if self.refuse:
            return defer.fail(error.ConnectionRefusedError())
        if self.hold:
            self.held = defer.Deferred()
            return self.held.addCallback(lambda ignored: self.connect(factory))
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 11211))
        transport = StringTransportWithDisconnection()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        self.connections.append((protocol, transport))
        return defer.succeed(protocol)


    def last(self):
        return self.connections[-1]



class WireTestsMixin(object):
    """
    Helpers for a store on a L{FakeEndpoint} and a L{Clock}.
    """

    def setUp(self):
        self.clock = Clock()
        self.endpoint = FakeEndpoint()
        self.store = self.makeStore()


    def makeStore(self, **kwargs):
        kwargs.setdefault("timeout", 1.0)
        kwargs.setdefault("namespace", b"ns:")
        return self.storeClass(reactor=self.clock, endpoint=self.endpoint, **kwargs)


    def sent(self, index=-1):
        """
        Take what was written on a connection so far.
        """
        transport = self.endpoint.connections[index][1]
        data = transport.value()
        transport.clear()
        return data


    def answer(self, data, index=-1):
        self.endpoint.connections[index][0].dataReceived(data)


    def tearDown(self):
        self.assertEqual(self.clock.getDelayedCalls(), [])



class MemcachedWireTests(WireTestsMixin, SynchronousTestCase):
    """
    L{MemcachedStore} over L{twisted.protocols.memcache}, on the wire.
    """
    storeClass = MemcachedStore

    def names(self, key):
        tag = urlTag(key.url)
        return (b"ns:e:" + key.digest(), b"ns:u:" + tag, b"ns:c")


    def value(self, name, data, cas=None):
        line = b"VALUE " + name + b" 0 %d" % (len(data),)
        if cas is not None:
            line += b" %d" % (cas,)
        return line + b"\r\n" + data + b"\r\n"


    def test_lookupIsOneGet(self):
        """
        A lookup sends one C{get} of the entry and both generation records,
        and reads the generation from the records.
        """
        key = makeKey()
        entryName, urlName, clearName = self.names(key)
        d = self.store.lookup(key)
        self.assertEqual(self.sent(),
                         b"get " + entryName + b" " + urlName + b" " + clearName + b"\r\n")
        tag = urlTag(key.url)
        self.answer(self.value(urlName, b"7 5 " + tag) + self.value(clearName, b"3 0 *")
                    + b"END\r\n")
        entry, generation = self.successResultOf(d)
        self.assertIsNone(entry)
        self.assertEqual(tuple(generation), (3, 0, 7, 5))


    def test_lookupChecksKeyInValue(self):
        """
        An entry whose key is another key's reads as a miss.
        """
        key, other = makeKey(b"p"), makeKey(b"q")
        entryName, _, _ = self.names(key)
        d = self.store.lookup(key)
        self.sent()
        self.answer(self.value(entryName, encodeEntry(makeEntry(other))) + b"END\r\n")
        entry, _ = self.successResultOf(d)
        self.assertIsNone(entry)
        self.assertEqual(self.store.stats()["badValues"], 1)
        self.flushLoggedErrors()


    def lookedUp(self, key, *values):
        """
        Look C{key} up, answered with C{values} (C{(name, data)}).
        """
        d = self.store.lookup(key)
        self.sent()
        self.answer(b"".join(self.value(name, data) for name, data in values)
                    + b"END\r\n")
        return self.successResultOf(d)


    def test_sameValueDecodedOnce(self):
        """
        A value read again, byte for byte, is the entry decoded the first
        time (its header block formatted once); another value for the key
        is decoded anew, and so is a value that decoded to nothing, each
        time.
        """
        key = makeKey()
        entryName, urlName, clearName = self.names(key)
        data = encodeEntry(makeEntry(key, b"one"))
        first, _ = self.lookedUp(key, (entryName, data))
        again, _ = self.lookedUp(key, (entryName, data[:-1] + data[-1:]))
        self.assertIs(again, first)
        other, _ = self.lookedUp(key, (entryName, encodeEntry(makeEntry(key, b"two"))))
        self.assertEqual(other.body, b"two")
        bad = data[:-1]
        for _ in range(2):
            entry, _ = self.lookedUp(key, (entryName, bad))
            self.assertIsNone(entry)
        self.assertEqual(self.store.stats()["badValues"], 2)
        self.flushLoggedErrors()


    def test_generationFollowsRecords(self):
        """
        Each lookup's generation is that of the records it read, however
        often the same records were read before.
        """
        key = makeKey()
        entryName, urlName, clearName = self.names(key)
        tag = urlTag(key.url)
        for records, expected in [((), (0, 0, 0, 0)),
                                  (((urlName, b"7 5 " + tag),), (0, 0, 7, 5)),
                                  (((urlName, b"7 5 " + tag),), (0, 0, 7, 5)),
                                  (((urlName, b"8 5 " + tag), (clearName, b"3 0 *")),
                                   (3, 0, 8, 5)),
                                  ((), (0, 0, 0, 0))]:
            _, generation = self.lookedUp(key, *records)
            self.assertEqual(tuple(generation), expected)


    def test_answersReadInPieces(self):
        """
        Lookups' answers are read whole however they arrive: several in one
        read, a byte at a time, or among the answers to other commands.
        """
        keys = [makeKey(b"k%d" % (i,)) for i in range(3)]
        answers = []
        for key in keys:
            entryName, urlName, _ = self.names(key)
            answers.append(self.value(entryName, encodeEntry(makeEntry(key, key.url[3][0])))
                           + self.value(urlName, b"7 5 " + urlTag(key.url)) + b"END\r\n")
        # Several in one read, the last one's value cut.
        ds = [self.store.lookup(key) for key in keys]
        self.sent()
        together = b"".join(answers)
        self.answer(together[:-20])
        self.assertEqual(self.successResultOf(ds[0])[0].body, b"k0")
        self.assertEqual(self.successResultOf(ds[1])[0].body, b"k1")
        self.assertNoResult(ds[2])
        self.answer(together[-20:])
        self.assertEqual(self.successResultOf(ds[2])[0].body, b"k2")
        # A byte at a time.
        d = self.store.lookup(keys[1])
        for i in range(len(answers[1])):
            self.assertNoResult(d)
            self.answer(answers[1][i:i + 1])
        self.assertEqual(self.successResultOf(d)[0].body, b"k1")
        # Between the answers to a delete and a lease, in one read.
        deleted = self.store.delete(keys[0])
        looked = self.store.lookup(keys[2])
        leased = self.store.acquireLease(keys[2], 1)
        self.sent()
        # The delete's, its announcement's (incr; its ring slot is set
        # after), the lookup's, the lease's, the slot's.
        self.answer(b"DELETED\r\n5\r\n" + answers[2] + b"STORED\r\nSTORED\r\n")
        self.assertIsNone(self.successResultOf(deleted))
        self.assertEqual(self.successResultOf(looked)[0].body, b"k2")
        self.assertTrue(self.successResultOf(leased))
        # An error line instead.
        d = self.store.lookup(keys[0])
        self.answer(b"SERVER_ERROR out of memory\r\n")
        self.failureResultOf(d)
        self.flushLoggedErrors()


    def test_valueNotAskedForDropsConnection(self):
        """
        A value for a name the lookup did not ask for drops the connection.
        """
        d = self.store.lookup(makeKey())
        self.sent()
        self.answer(self.value(b"ns:e:other", b"x") + b"END\r\n")
        self.failureResultOf(d)
        self.assertFalse(self.endpoint.last()[1].connected)
        self.flushLoggedErrors()


    def test_recordOfAnotherNameDropsConnection(self):
        """
        A generation record carrying another URL's tag means the connection
        answers for other names: the lookup fails and the connection is
        dropped.
        """
        key = makeKey()
        _, urlName, _ = self.names(key)
        d = self.store.lookup(key)
        self.sent()
        self.answer(self.value(urlName, b"7 5 " + urlTag(makeKey(b"q").url)) + b"END\r\n")
        self.failureResultOf(d)
        self.assertFalse(self.endpoint.last()[1].connected)
        self.assertEqual(self.store.stats()["badRecords"], 1)


    def test_timeoutDropsConnection(self):
        """
        A call not answered within the timeout fails with L{TimeoutError},
        and its connection is dropped.
        """
        d = self.store.lookup(makeKey())
        self.clock.advance(1)
        self.failureResultOf(d, defer.TimeoutError)
        self.assertFalse(self.endpoint.last()[1].connected)


    def test_lateAnswerNeverAnswersAnotherKey(self):
        """
        An answer arriving after its call timed out, followed by the answer
        to the next call, never reaches the next call: the next call runs on
        a new connection and gets its own answer.
        """
        first, second = makeKey(b"first"), makeKey(b"second")
        d1 = self.store.lookup(first)
        self.clock.advance(1)
        self.failureResultOf(d1, defer.TimeoutError)
        d2 = self.store.lookup(second)
        self.assertEqual(len(self.endpoint.connections), 2)
        late = (self.value(self.names(first)[0], encodeEntry(makeEntry(first, b"1")))
                + b"END\r\n")
        own = (self.value(self.names(second)[0], encodeEntry(makeEntry(second, b"2")))
               + b"END\r\n")
        # The late answer and the second answer, together, on the old
        # connection: nothing is read from it any more.
        self.answer(late + own, index=0)
        self.assertNoResult(d2)
        self.answer(own)
        self.assertEqual(self.successResultOf(d2)[0].body, b"2")


    def test_answerToNothingDropsConnection(self):
        """
        Data when no call waits for it is dropped, with the connection.
        """
        d = self.store.lookup(makeKey())
        self.sent()
        self.answer(b"END\r\nEND\r\n")
        self.successResultOf(d)
        self.assertFalse(self.endpoint.last()[1].connected)
        self.flushLoggedErrors()


    def test_storeIsFencedWithCas(self):
        """
        A store reads the records and the entry's CAS identifier with
        C{gets}, and writes with C{cas}: only if the generations are the
        stamp and no one wrote the entry meanwhile.  With the C{cas} goes
        the announcement of the change to near tiers: the event's number
        drawn (C{incr}), then the event written into its ring slot.
        """
        key = makeKey()
        entryName, urlName, clearName = self.names(key)
        entry = makeEntry(key, generation=(3, 7))
        d = self.store.store(key, entry)
        self.assertEqual(self.sent(), b"gets " + entryName + b" " + urlName + b" "
                         + clearName + b"\r\n")
        self.answer(self.value(entryName, b"old", 42)
                    + self.value(urlName, b"7 0 " + urlTag(key.url), 1)
                    + self.value(clearName, b"3 0 *", 2) + b"END\r\n")
        data = encodeEntry(entry)
        self.assertEqual(self.sent(), b"cas " + entryName + b" 0 0 %d 42\r\n" % (len(data),)
                         + data + b"\r\n" + b"incr ns:n 1\r\n")
        self.answer(b"STORED\r\n5\r\n")
        event = b"5 e:" + key.digest() + b" " + self.store.writerId
        self.assertEqual(self.sent(), b"set ns:n:5 0 0 %d\r\n" % (len(event),)
                         + event + b"\r\n")
        self.assertNoResult(d)
        self.answer(b"STORED\r\n")
        self.assertTrue(self.successResultOf(d))


    def test_storeFencedOff(self):
        """
        A store whose stamp is not the current generation writes nothing.
        """
        key = makeKey()
        entryName, urlName, clearName = self.names(key)
        d = self.store.store(key, makeEntry(key, generation=(3, 7)))
        self.sent()
        self.answer(self.value(urlName, b"8 0 " + urlTag(key.url), 1)
                    + self.value(clearName, b"3 0 *", 2) + b"END\r\n")
        self.assertFalse(self.successResultOf(d))
        self.assertEqual(self.sent(), b"")
        self.assertEqual(self.store.stats()["fenced"], 1)


    def test_storeRacedIsNotStored(self):
        """
        If another writer stored the entry between the read and the write,
        the C{cas} fails: not stored.
        """
        key = makeKey()
        entryName, _, _ = self.names(key)
        d = self.store.store(key, makeEntry(key))
        self.sent()
        self.answer(self.value(entryName, b"old", 42) + b"END\r\n")
        self.assertTrue(self.sent().startswith(b"cas "))
        self.answer(b"EXISTS\r\n5\r\nSTORED\r\n")
        self.assertFalse(self.successResultOf(d))


    def test_invalidateDrawsGenerationAfterReading(self):
        """
        An invalidation reads the record with its CAS identifier, then
        draws a new generation, then writes the record only if unchanged.
        """
        key = makeKey()
        _, urlName, _ = self.names(key)
        tag = urlTag(key.url)
        d = self.store.invalidate(key.url, False)
        self.assertEqual(self.sent(), b"gets " + urlName + b"\r\n")
        self.answer(self.value(urlName, b"7 5 " + tag, 9) + b"END\r\n")
        self.assertEqual(self.sent(), b"incr ns:g 1\r\n")
        self.answer(b"12\r\n")
        self.assertEqual(self.sent(), b"cas " + urlName + b" 0 0 %d 9\r\n"
                         % (len(b"12 5 " + tag),) + b"12 5 " + tag + b"\r\n"
                         + b"incr ns:n 1\r\n")
        self.answer(b"STORED\r\n3\r\n")
        event = b"3 u:" + tag + b" " + self.store.writerId
        self.assertEqual(self.sent(), b"set ns:n:3 0 0 %d\r\n" % (len(event),)
                         + event + b"\r\n")
        self.answer(b"STORED\r\n")
        self.assertIsNone(self.successResultOf(d))


    def test_invalidateDrawsAboveTheRecord(self):
        """
        A generation drawn at or below the record's own (the counter was
        lost on its own and seeded again from a clock it had run ahead of)
        is not used: the record gets its own plus one, and the counter is
        raised by as much, so that it is again above what it handed out.
        """
        key = makeKey()
        _, urlName, _ = self.names(key)
        tag = urlTag(key.url)
        d = self.store.invalidate(key.url, True)
        self.assertEqual(self.sent(), b"gets " + urlName + b"\r\n")
        self.answer(self.value(urlName, b"1000005 1000002 " + tag, 9) + b"END\r\n")
        self.assertEqual(self.sent(), b"incr ns:g 1\r\n")
        self.answer(b"1000001\r\n")
        self.assertEqual(self.sent(), b"incr ns:g 5\r\n")
        self.answer(b"1000006\r\n")
        record = b"1000006 1000006 " + tag
        self.assertEqual(self.sent(), b"cas " + urlName + b" 0 0 %d 9\r\n"
                         % (len(record),) + record + b"\r\n" + b"incr ns:n 1\r\n")
        self.answer(b"STORED\r\n3\r\n")
        self.assertTrue(self.sent().startswith(b"set ns:n:3 "))
        self.answer(b"STORED\r\n")
        self.assertIsNone(self.successResultOf(d))


    def test_invalidateSeedsLostCounter(self):
        """
        A counter that is gone is seeded from the wall clock, so its
        generations stay above those handed out before; the event counter,
        with a new epoch as its flags (L{counterEpoch}).
        """
        from nevowcache._stores import memcachedstore
        self.patch(memcachedstore, "counterEpoch", lambda: 8)
        key = makeKey()
        self.store.invalidate(key.url, True)
        self.sent()
        self.answer(b"END\r\n")
        self.assertEqual(self.sent(), b"incr ns:g 1\r\n")
        self.answer(b"NOT_FOUND\r\n")
        sent = self.sent()
        self.assertTrue(sent.startswith(b"add ns:g 0 0 13\r\n"), sent)
        self.assertGreater(int(sent.split(b"\r\n")[1]), 1500000000000)
        self.answer(b"STORED\r\n")
        self.assertTrue(self.sent().startswith(b"add ns:u:"))
        # The event counter too.
        self.answer(b"STORED\r\nNOT_FOUND\r\n")
        sent = self.sent()
        self.assertTrue(sent.startswith(b"add ns:n 8 0 13\r\n"), sent)
        seed = int(sent.split(b"\r\n")[1])
        self.assertGreater(seed, 1500000000000)
        self.answer(b"STORED\r\n")
        self.assertTrue(self.sent().startswith(b"set ns:n:%d " % (seed % 1024,)))
        self.answer(b"STORED\r\n")


    def test_invalidationKeptUntilNextCall(self):
        """
        An invalidation that could not be sent is sent before the next
        call; until then that call waits for it.
        """
        key = makeKey()
        self.endpoint.refuse = True
        self.failureResultOf(self.store.invalidate(key.url, True),
                             error.ConnectionRefusedError)
        self.assertEqual(self.store.stats()["pendingInvalidations"], 1)
        self.endpoint.refuse = False
        d = self.store.lookup(key)
        self.assertEqual(self.sent(), b"gets " + self.names(key)[1] + b"\r\n")
        self.assertNoResult(d)
        self.answer(b"END\r\n")
        self.answer(b"5\r\n")
        self.answer(b"STORED\r\n")
        self.answer(b"6\r\n")
        self.answer(b"STORED\r\n")
        self.assertTrue(self.sent().endswith(b"get " + b" ".join(self.names(key))
                                             + b"\r\n"))
        self.answer(b"END\r\n")
        self.successResultOf(d)
        self.assertEqual(self.store.stats()["pendingInvalidations"], 0)
        self.flushLoggedErrors()


    def test_readsWaitForInvalidationInFlight(self):
        """
        A lookup, and the fence of a store, that read a record this store
        is bumping are sent once the bump is done (its C{cas} answered,
        its announcement too): sent meanwhile, they would read the record
        from before it.  A lookup that reads none of the records being
        bumped is sent at once.
        """
        key, other = makeKey(), makeKey(b"other")
        entryName, urlName, clearName = self.names(key)
        tag = urlTag(key.url)
        d = self.store.invalidate(key.url, True)
        self.assertEqual(self.sent(), b"gets " + urlName + b"\r\n")
        looked = self.store.lookup(key)
        fenced = self.store.store(key, makeEntry(key, generation=(3, 7)))
        elsewhere = self.store.lookup(other)
        self.assertEqual(self.sent(), b"get " + b" ".join(self.names(other)) + b"\r\n")
        self.answer(self.value(urlName, b"7 5 " + tag, 9) + b"END\r\n")
        self.answer(b"END\r\n")
        self.successResultOf(elsewhere)
        self.assertEqual(self.sent(), b"incr ns:g 1\r\n")
        self.answer(b"12\r\n")
        self.assertTrue(self.sent().startswith(b"cas " + urlName + b" "))
        self.answer(b"STORED\r\n3\r\n")
        self.assertTrue(self.sent().startswith(b"set ns:n:3 "))
        self.assertNoResult(looked)
        self.assertNoResult(fenced)
        self.answer(b"STORED\r\n")
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(self.sent(), b"get " + b" ".join(self.names(key)) + b"\r\n"
                         + b"gets " + b" ".join(self.names(key)) + b"\r\n")
        self.answer(self.value(urlName, b"12 12 " + tag) + b"END\r\n"
                    + self.value(urlName, b"12 12 " + tag, 10) + b"END\r\n")
        self.assertEqual(tuple(self.successResultOf(looked)[1]), (0, 0, 12, 12))
        self.assertFalse(self.successResultOf(fenced))
        self.assertEqual(self.sent(), b"")
        self.assertEqual(self.store._servers[0].bumping, {})


    def test_readWaitsForTheInvalidationStillInFlight(self):
        """
        Two invalidations of one record in flight, the later done first: a
        lookup sent then waits for the earlier one, and is sent once it is
        done.
        """
        bumps = []

        def bump(protocol, name, tag, hard):
            bumps.append(defer.Deferred())
            return bumps[-1]
        self.patch(self.store, "_bump", bump)
        key = makeKey()
        self.store.lookup(key)
        self.sent()
        self.answer(b"END\r\n")
        first = self.store.invalidate(key.url, True)
        second = self.store.invalidate(key.url, True)
        bumps[1].callback(None)
        self.successResultOf(second)
        after = self.store.lookup(key)
        self.assertEqual(self.sent(), b"")
        bumps[0].callback(None)
        self.successResultOf(first)
        self.assertEqual(self.sent(), b"get " + b" ".join(self.names(key)) + b"\r\n")
        self.answer(b"END\r\n")
        self.successResultOf(after)
        self.assertEqual(self.store._servers[0].bumping, {})


    def test_readHeldByFailedInvalidation(self):
        """
        A lookup waiting for an invalidation that fails (here it times out)
        goes on once it has failed, sending it again first (it is kept),
        and never waits past its own deadline.
        """
        key = makeKey()
        _, urlName, _ = self.names(key)
        d = self.store.invalidate(key.url, True)
        self.sent()
        self.clock.advance(0.5)
        looked = self.store.lookup(key)
        self.assertEqual(self.sent(), b"")
        self.clock.advance(0.5)
        self.failureResultOf(d, defer.TimeoutError)
        self.assertEqual(self.store.stats()["pendingInvalidations"], 1)
        self.assertEqual(len(self.endpoint.connections), 2)
        self.assertEqual(self.sent(), b"gets " + urlName + b"\r\n")
        self.assertNoResult(looked)
        self.clock.advance(0.5)
        self.failureResultOf(looked, defer.TimeoutError)
        self.assertEqual(self.store.stats()["pendingInvalidations"], 1)
        self.assertEqual(self.store._servers[0].bumping, {})
        self.flushLoggedErrors()


    def test_circuitOpensThenProbes(self):
        """
        After C{maxFailures} failed calls the store is not tried for
        C{coolDown} seconds; then one call probes it, and success closes
        the circuit.
        """
        self.store = self.makeStore(maxFailures=2, coolDown=5)
        self.endpoint.refuse = True
        for _ in range(2):
            self.failureResultOf(self.store.lookup(makeKey()), error.ConnectionRefusedError)
        self.failureResultOf(self.store.lookup(makeKey()), CircuitOpen)
        self.assertEqual(self.endpoint.attempts, 2)
        self.clock.advance(5)
        self.endpoint.refuse = False
        probe = self.store.lookup(makeKey())
        self.failureResultOf(self.store.lookup(makeKey()), CircuitOpen)
        self.answer(b"END\r\n")
        self.successResultOf(probe)
        self.assertEqual(self.store.stats()["circuit"], "closed")
        self.flushLoggedErrors()


    def test_leaseIsAddWithExpiry(self):
        """
        A lease is an C{add} with an expiry; it is released with a C{cas}
        that expires it, only if it still holds the token.
        """
        key = makeKey()
        d = self.store.acquireLease(key, 2.5)
        sent = self.sent()
        token = sent.split(b"\r\n")[1]
        self.assertEqual(sent, b"add ns:l:" + key.digest() + b" 0 3 32\r\n" + token
                         + b"\r\n")
        self.answer(b"STORED\r\n")
        self.assertEqual(self.successResultOf(d), token)
        d = self.store.releaseLease(key, token)
        self.assertEqual(self.sent(), b"gets ns:l:" + key.digest() + b"\r\n")
        self.answer(self.value(b"ns:l:" + key.digest(), token, 77) + b"END\r\n")
        self.assertEqual(self.sent(), b"cas ns:l:" + key.digest() + b" 0 -1 1 77\r\n-\r\n")
        self.answer(b"STORED\r\n")
        self.assertTrue(self.successResultOf(d))


    def test_closeWhileConnecting(self):
        """
        C{close()} while a connection is being made closes it once made, and
        fails the calls that waited for it.
        """
        self.endpoint.hold = True
        d = self.store.lookup(makeKey())
        closed = self.store.close()
        self.assertNoResult(closed)
        self.endpoint.hold = False
        self.endpoint.held.callback(None)
        self.successResultOf(closed)
        self.assertFalse(self.endpoint.last()[1].connected)
        self.failureResultOf(d)


    def test_closeClosesConnection(self):
        """
        C{close()} closes the connection and fires when it is closed.
        """
        d = self.store.lookup(makeKey())
        self.answer(b"END\r\n")
        self.successResultOf(d)
        self.successResultOf(self.store.close())
        self.assertFalse(self.endpoint.last()[1].connected)
        self.failureResultOf(self.store.lookup(makeKey()))



class RedisWireTests(WireTestsMixin, SynchronousTestCase):
    """
    L{RedisStore} over C{txredisapi}'s protocol, on the wire.
    """
    skip = _noRedisClient

    @property
    def storeClass(self):
        return RedisStore


    def command(self, *args):
        out = [b"*%d\r\n" % (len(args),)]
        for arg in args:
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(out)


    def bulk(self, value):
        if value is None:
            return b"$-1\r\n"
        return b"$%d\r\n%s\r\n" % (len(value), value)


    def test_lookupIsOneMget(self):
        """
        A lookup is one C{MGET} of the entry and both records, answered in
        bytes.
        """
        key = makeKey()
        tag = urlTag(key.url)
        d = self.store.lookup(key)
        self.assertEqual(self.sent(), self.command(
            b"MGET", b"ns:e:" + key.digest(), b"ns:u:" + tag, b"ns:c"))
        data = encodeEntry(makeEntry(key, b"\x00\xff body"))
        self.answer(b"*3\r\n" + self.bulk(data) + self.bulk(b"7 5 " + tag)
                    + self.bulk(None))
        self.clock.advance(0)
        entry, generation = self.successResultOf(d)
        self.assertEqual(entry.body, b"\x00\xff body")
        self.assertEqual(tuple(generation), (0, 0, 7, 5))


    def test_repliesReadAtOnce(self):
        """
        Every reply a read completes is delivered during that read, however
        many bulk values it holds, without waiting for a reactor turn; and
        replies that arrive a byte at a time are read all the same.
        """
        first, second = makeKey(b"first"), makeKey(b"second")
        d1 = self.store.lookup(first)
        d2 = self.store.lookup(second)
        tag = urlTag(first.url)
        one = (b"*3\r\n" + self.bulk(encodeEntry(makeEntry(first, b"1")))
               + self.bulk(b"7 5 " + tag) + self.bulk(None))
        two = b"*3\r\n" + self.bulk(encodeEntry(makeEntry(second, b"2"))) + b"$-1\r\n$-1\r\n"
        self.answer(one + two)
        self.assertEqual(self.successResultOf(d1)[0].body, b"1")
        self.assertEqual(self.successResultOf(d2)[0].body, b"2")
        d3 = self.store.lookup(second)
        for i in range(len(two)):
            self.assertNoResult(d3)
            self.answer(two[i:i + 1])
        self.assertEqual(self.successResultOf(d3)[0].body, b"2")


    def test_replyTypes(self):
        """
        Replies are read as C{txredisapi}'s own parser gives them, with
        C{charset=None}: statuses as native strings, errors as
        C{ResponseError}, integers, bulk values as bytes, nil as L{None},
        arrays (nested, empty, nil) as lists.
        """
        from nevowcache._stores.resp import ReplyReader
        reader = ReplyReader(100, txredisapi.ResponseError)
        replies = reader.feed(
            b"+OK\r\n-ERR unknown command\r\n:42\r\n$3\r\na\r\n\r\n$-1\r\n"
            b"*2\r\n*1\r\n:1\r\n$0\r\n\r\n*0\r\n*-1\r\n+QUEU")
        self.assertEqual(replies[0], "OK")
        self.assertIsInstance(replies[0], str)
        self.assertIsInstance(replies[1], txredisapi.ResponseError)
        self.assertEqual(str(replies[1]), "ERR unknown command")
        self.assertEqual(replies[2:], [42, b"a\r\n", None, [[1], b""], [], None])
        self.assertEqual(reader.feed(b"ED\r\n+QUEUED and more\r\n")[1],
                         "QUEUED and more")


    def test_garbageDropsConnection(self):
        """
        What is not RESP drops the connection.
        """
        d = self.store.lookup(makeKey())
        self.answer(b"?what\r\n")
        self.failureResultOf(d)
        self.assertFalse(self.endpoint.last()[1].connected)
        self.flushLoggedErrors()


    def test_storeIsOneScript(self):
        """
        A fenced store is one C{EVAL}: the check, the write and its
        announcement to near tiers (on the events channel) are atomic.
        """
        key = makeKey()
        d = self.store.store(key, makeEntry(key, generation=(3, 7)))
        sent = self.sent()
        self.assertTrue(sent.startswith(b"*13\r\n$4\r\nEVAL\r\n"), sent[:40])
        self.assertIn(b"redis.call('PUBLISH', ARGV[6], ARGV[7])", sent)
        self.assertTrue(sent.endswith(
            self.bulk(b"1") + self.bulk(b"3") + self.bulk(b"7") + self.bulk(b"0")
            + self.bulk(b"ns:events")
            + self.bulk(b"e:" + key.digest() + b" " + self.store.writerId)))
        self.answer(b":0\r\n")
        self.assertFalse(self.successResultOf(d))


    def test_leaseIsSetNxPx(self):
        """
        A lease is C{SET NX PX}; a busy one answers nil.
        """
        key = makeKey()
        d = self.store.acquireLease(key, 0.25)
        sent = self.sent()
        self.assertTrue(sent.endswith(self.bulk(b"PX") + self.bulk(b"250")
                                      + self.bulk(b"NX")), sent)
        self.answer(b"$-1\r\n")
        self.assertIsNone(self.successResultOf(d))


    def test_timeoutDropsConnection(self):
        """
        A call not answered within the timeout fails with L{TimeoutError},
        and its connection is dropped.
        """
        d = self.store.lookup(makeKey())
        self.clock.advance(1)
        self.failureResultOf(d, defer.TimeoutError)
        self.assertFalse(self.endpoint.last()[1].connected)


    def test_lateAnswerNeverAnswersAnotherKey(self):
        """
        After a timeout, the late answer and the next call's answer on the
        old connection are never read; the next call has its own
        connection.
        """
        first, second = makeKey(b"first"), makeKey(b"second")
        d1 = self.store.lookup(first)
        self.clock.advance(1)
        self.failureResultOf(d1, defer.TimeoutError)
        d2 = self.store.lookup(second)
        late = b"*3\r\n" + self.bulk(encodeEntry(makeEntry(first, b"1"))) + b"$-1\r\n$-1\r\n"
        own = b"*3\r\n" + self.bulk(encodeEntry(makeEntry(second, b"2"))) + b"$-1\r\n$-1\r\n"
        self.answer(late + own, index=0)
        self.clock.advance(0)
        self.assertNoResult(d2)
        self.answer(own)
        self.clock.advance(0)
        self.assertEqual(self.successResultOf(d2)[0].body, b"2")


    def test_answerToNothingDropsConnection(self):
        """
        A reply nothing asked for drops the connection instead of waiting
        to answer the next call.
        """
        d = self.store.lookup(makeKey())
        self.sent()
        self.answer(b"*3\r\n$-1\r\n$-1\r\n$-1\r\n+OK\r\n")
        self.clock.advance(0)
        self.successResultOf(d)
        self.assertFalse(self.endpoint.last()[1].connected)


    def test_authAndSelectFirst(self):
        """
        With a password and a database, C{AUTH} and C{SELECT} go first, and
        calls wait for them.
        """
        self.store = self.makeStore(password=b"pw", dbid=3)
        d = self.store.delete(makeKey())
        self.assertEqual(self.sent(), self.command(b"AUTH", b"pw"))
        self.answer(b"+OK\r\n")
        self.assertEqual(self.sent(), self.command(b"SELECT", b"3"))
        self.assertNoResult(d)
        self.answer(b"+OK\r\n")
        self.assertEqual(self.sent(), self.command(b"DEL", b"ns:e:" + makeKey().digest())
                         + self.command(b"PUBLISH", b"ns:events", b"e:" + makeKey().digest()
                                        + b" " + self.store.writerId))
        self.answer(b":1\r\n:0\r\n")
        self.assertIsNone(self.successResultOf(d))


    def test_wrongPasswordFails(self):
        """
        A refused C{AUTH} fails the call and gives up the connection.
        """
        self.store = self.makeStore(password=b"wrong")
        d = self.store.delete(makeKey())
        self.sent()
        self.answer(b"-WRONGPASS invalid username-password pair\r\n")
        self.failureResultOf(d)
        self.flushLoggedErrors()
