# -*- test-case-name: tests.test_storeinterfaces -*-
"""
Every store, in the package and among the tests' doubles, provides what it
claims (L{verifyObject} against each interface it declares), and claims
what L{PageCache} would otherwise not use.
"""

from __future__ import absolute_import, division

import importlib
import os
import pkgutil

from twisted.internet.task import Clock
from twisted.trial.unittest import SkipTest, SynchronousTestCase
from zope.interface import implementer, providedBy
from zope.interface.verify import verifyObject

import nevowcache
import tests
from nevowcache import (
    IChargedStore, ILeaseStore, IPageStore, IPeekableStore, IScopedStore, ISharedStore,
    MemoryStore, PageCache, RedisStore)
from nevowcache._engine.pagecache import CachePolicy
from nevowcache._http.key import CacheKey

# The capabilities PageCache checks with providedBy.
CAPABILITIES = (IScopedStore, IPeekableStore, IChargedStore, ILeaseStore)


# How to make one of each store class, by module and name.  A store class
# missing here fails test_everyStoreVerified: add it.
FACTORIES = {
    "nevowcache._stores.memory.MemoryStore": lambda cls: cls(),
    # Abstract: verified through its subclasses.
    "nevowcache._stores.sharedstore.SharedStore": None,
    "nevowcache._stores.memcachedstore.MemcachedStore": lambda cls: cls(reactor=Clock()),
    "nevowcache._stores.redisstore.RedisStore": lambda cls: cls(reactor=Clock()),
    "nevowcache._stores.near.NearStore": lambda cls: cls(RedisStore(reactor=Clock())),
    "nevowcache._testing.failingstore.FailingStore": lambda cls: cls(),
    "tests.test_near.SharedDouble": lambda cls: cls(Clock()),
    "tests._harness.FaultyStore": lambda cls: cls(),
    "tests.test_leases.LeasingStore": lambda cls: cls(Clock()),
    "tests.test_model._RecordingStore": lambda cls: cls(None),
    "tests.test_pool._ScriptedPool": lambda cls: cls(servers=["a:1", "b:2"],
                                                     reactor=Clock()),
}



def storeClasses():
    """
    @return: A L{dict} of every class that implements L{IPageStore} in a
        module of C{nevowcache} or of C{tests} (those that import here),
        by C{module.name}.  C{nevowcache}'s folders are walked too.
    """
    found = {}
    for package in (nevowcache, tests):
        paths = [os.path.abspath(path) for path in package.__path__]
        walk = pkgutil.walk_packages if package is nevowcache else pkgutil.iter_modules
        for info in walk(paths, package.__name__ + "."):
            short = info[1].rsplit(".", 1)[1]
            if info[1] == __name__:
                # This module's doubles are wrong on purpose.
                continue
            if package is tests and (short.startswith("_typed")
                                     or not short.startswith(("test_", "_"))):
                # Scripts, and the type checker's examples (one of which
                # fails on purpose when run).
                continue
            try:
                module = importlib.import_module(info[1])
            except (ImportError, SkipTest):
                # The Nevow modules on Python 3.
                continue
            for value in list(vars(module).values()):
                if isinstance(value, type) and IPageStore.implementedBy(value):
                    found["%s.%s" % (value.__module__, value.__name__)] = value
    return found



# Walked when this module is imported: on Python 2, package paths may be
# relative, and trial changes directory before running tests.
STORE_CLASSES = storeClasses()



def missing(store, interface):
    """
    @return: Whether C{store} has every name of C{interface} without
        declaring it (so that L{PageCache} would not use them).
    """
    return (not interface.providedBy(store)
            and all(hasattr(store, name) for name in interface.names()))



class StoreInterfaceTests(SynchronousTestCase):
    """
    Every store class verifies against every interface it claims.
    """

    def test_storesFound(self):
        """
        The walk finds the package's stores and the tests' doubles.
        """
        names = set(STORE_CLASSES)
        for expected in ("nevowcache._stores.memory.MemoryStore",
                         "nevowcache._stores.redisstore.RedisStore",
                         "nevowcache._testing.failingstore.FailingStore",
                         "tests.test_leases.LeasingStore"):
            self.assertIn(expected, names)


    def test_everyStoreVerified(self):
        """
        An instance of every store class provides every interface it claims,
        and claims every capability whose methods it has.
        """
        for name, cls in sorted(STORE_CLASSES.items()):
            self.assertIn(name, FACTORIES, "no factory for store class %s" % (name,))
            if FACTORIES[name] is None:
                continue
            store = FACTORIES[name](cls)
            interfaces = list(providedBy(store).flattened())
            self.assertIn(IPageStore, interfaces)
            for interface in interfaces:
                verifyObject(interface, store)
            for interface in CAPABILITIES:
                self.assertFalse(
                    missing(store, interface),
                    "%s has the methods of %s but does not declare it"
                    % (name, interface.__name__))


    def test_verifyCatches(self):
        """
        A store that claims an interface without providing it fails the
        verification the test above makes.
        """
        @implementer(IScopedStore)
        class Liar(object):
            name = "liar"

            def lookup(self, key, scopes=()):
                pass

            def store(self, key, entry):
                pass

            def delete(self, key):
                pass

            def invalidate(self, url, hard):
                pass

            def clear(self, hard):
                pass

            def stats(self):
                return {}

        verifyObject(IPageStore, Liar())
        self.assertRaises(Exception, verifyObject, IScopedStore, Liar())
        self.assertTrue(missing(MemoryStore(), ISharedStore))



@implementer(IPageStore)
class _Undeclared(object):
    """
    A L{MemoryStore} that declares only L{IPageStore}, with C{peek} and
    C{invalidateScope} as attributes all the same.
    """
    name = "undeclared"

    def __init__(self):
        self.memory = MemoryStore()
        self.peeks = 0

    def __getattr__(self, name):
        return getattr(self.memory, name)

    def peek(self, key, scopes=()):
        self.peeks += 1
        return self.memory.peek(key, scopes)



class CapabilityTests(SynchronousTestCase):
    """
    L{PageCache} uses what a store declares, not what it happens to have.
    """

    def setUp(self):
        self.key = CacheKey((b"http", b"example.com", 8080, (b"p",), (), ()), ("P", (), None))
        self.policy = CachePolicy(60, 0)


    def test_undeclaredPeekUnused(self):
        """
        A store that has C{peek} without declaring L{IPeekableStore} is not
        peeked.
        """
        store = _Undeclared()
        cache = PageCache(store, reactor=Clock())
        self.assertIsNone(cache.answerAtOnce(self.key, self.policy))
        self.assertEqual(store.peeks, 0)


    def test_undeclaredScopesUnused(self):
        """
        A store with C{invalidateScope} that does not declare
        L{IScopedStore} cannot invalidate a tag.
        """
        cache = PageCache(_Undeclared(), reactor=Clock())
        self.failureResultOf(cache.invalidateTag(u"t"), TypeError)


    def test_storeReplaced(self):
        """
        Capabilities are learnt again when C{store} is replaced.
        """
        cache = PageCache(_Undeclared(), reactor=Clock())
        self.failureResultOf(cache.invalidateTag(u"t"), TypeError)
        cache.store = MemoryStore()
        self.successResultOf(cache.invalidateTag(u"t"))
        cache.store = _Undeclared()
        self.failureResultOf(cache.invalidateTag(u"t"), TypeError)
