# -*- test-case-name: tests.test_capture,tests.test_web.ComponentTests -*-
"""
The components of a capture (L{Componentized}'s surface of twisted.web's
request): the request's own as the render started, copied, and the ones the
render adds, kept on the capture; adapters registered for the request's
class are made for the capture.
"""

from __future__ import absolute_import, division

from twisted.python import components, reflect
from zope.interface import providedBy

__all__ = ["CapturedComponents"]



class CapturedComponents(object):
    """
    L{Componentized}'s methods, on a capture: whatever a render sets stays
    in the capture, and the request's components as the render started
    are seen through a copy.

    A base of L{nevowcache._http.capture.CaptureRequest}, which provides
    C{_underlying}, the request the capture stands for.
    """

    def __conform__(self, interface):
        if interface.providedBy(self._underlying):
            # The capture stands for the request.
            return self
        return self.getComponent(interface)


    @property
    def _adapterCache(self):
        cache = self.__dict__.get("_components")
        if cache is None:
            cache = dict(getattr(self._underlying, "_adapterCache", None) or {})
            self.__dict__["_components"] = cache
        return cache


    def getComponent(self, interface, default=None):
        """
        As L{Componentized.getComponent}, with the adapters registered for
        the request's class, made for the capture.
        """
        name = reflect.qual(interface)
        cache = self._adapterCache
        if name in cache:
            return cache[name]
        factory = components.getAdapterFactory(
            self._underlying.__class__, interface, None)
        if factory is None:
            return default
        adapter = factory(self)
        if adapter is None:
            return default
        if not getattr(adapter, "temporaryAdapter", False):
            cache[name] = adapter
        return adapter


    def setComponent(self, interfaceClass, component):
        self._adapterCache[reflect.qual(interfaceClass)] = component


    def addComponent(self, component, ignoreClass=0):
        for interface in providedBy(component):
            if ignoreClass or components.getAdapterFactory(
                    self._underlying.__class__, interface, None) == component.__class__:
                self.setComponent(interface, component)


    def unsetComponent(self, interfaceClass):
        del self._adapterCache[reflect.qual(interfaceClass)]


    def removeComponent(self, component):
        cache = self._adapterCache
        removed = []
        for name, value in list(cache.items()):
            if value is component:
                del cache[name]
                removed.append(name)
        return removed


    def setAdapter(self, interfaceClass, adapterClass):
        self.setComponent(interfaceClass, adapterClass(self))


    def addAdapter(self, adapterClass, ignoreClass=0):
        adapter = adapterClass(self)
        self.addComponent(adapter, ignoreClass)
        return adapter
