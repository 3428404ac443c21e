"""
A small asyncio HTTP/1.1 client for what ab and wrk cannot do (Python 3):

  - L{burst}: open N connections, then send one request on each at once,
    and read every answer (the cold burst);
  - L{flood}: send a bounded number of requests, each for a distinct URL,
    over a few keep-alive connections (the memory flood).

Responses are checked (status, body length) and their C{Cache-Status}
headers counted.  Loopback only: the host is always 127.0.0.1.
"""

import asyncio
import collections
import time

__all__ = ["burst", "flood", "Tally"]

HOST = "127.0.0.1"



class Tally(object):
    """
    What a batch of responses was.

    @ivar statuses: A L{collections.Counter} of status codes.
    @ivar cacheStatus: A L{collections.Counter} of C{Cache-Status} values,
        with the C{ttl=} part dropped.
    @ivar bodyLengths: A L{collections.Counter} of body lengths.
    @ivar latencies: Seconds from send to the end of each response.
    @ivar errors: Exceptions (as text), counted.
    """

    def __init__(self):
        self.statuses = collections.Counter()
        self.cacheStatus = collections.Counter()
        self.bodyLengths = collections.Counter()
        self.latencies = []
        self.errors = collections.Counter()
        self.elapsed = 0.0


    def add(self, status, headers, body, latency):
        self.statuses[status] += 1
        value = headers.get(b"cache-status", b"-").decode("ascii", "replace")
        self.cacheStatus["; ".join(p for p in value.split("; ")
                                   if not p.startswith("ttl="))] += 1
        self.bodyLengths[len(body)] += 1
        self.latencies.append(latency)


    @property
    def count(self):
        return sum(self.statuses.values())


    def asDict(self):
        return {"statuses": dict(self.statuses), "cacheStatus": dict(self.cacheStatus),
                "bodyLengths": dict(self.bodyLengths), "errors": dict(self.errors),
                "elapsed": self.elapsed, "count": self.count}



async def _readResponse(reader):
    """
    Read one response.

    @return: C{(status, headers, body)}; header names lower-cased.
    """
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.read()
    return status, headers, body



def _request(path):
    return b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: nevowcache-bench\r\n\r\n"



async def _burst(port, path, n, timeout):
    tally = Tally()
    connections = await asyncio.wait_for(asyncio.gather(
        *[asyncio.open_connection(HOST, port) for _ in range(n)]), timeout)
    request = _request(path)
    start = time.perf_counter()
    for _, writer in connections:
        writer.write(request)

    async def answer(reader, writer):
        try:
            status, headers, body = await _readResponse(reader)
            tally.add(status, headers, body, time.perf_counter() - start)
        except Exception as e:
            tally.errors[type(e).__name__] += 1
        finally:
            writer.close()
    await asyncio.wait_for(asyncio.gather(*[answer(r, w) for r, w in connections]), timeout)
    tally.elapsed = time.perf_counter() - start
    return tally



def burst(port, path, n=1000, timeout=60.0):
    """
    Open C{n} connections to C{port}, then send one GET for C{path} on each
    at once, and read all the answers.

    @param path: L{bytes}.
    @rtype: L{Tally}
    """
    return asyncio.run(_burst(port, path, n, timeout))



async def _flood(port, paths, connections, pipeline, timeout, progress):
    tally = Tally()
    iterator = iter(paths)
    start = time.perf_counter()

    async def worker():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while True:
                batch = [path for _, path in zip(range(pipeline), iterator)]
                if not batch:
                    return
                writer.write(b"".join(_request(path) for path in batch))
                try:
                    for _ in batch:
                        status, headers, body = await asyncio.wait_for(
                            _readResponse(reader), timeout)
                        tally.statuses[status] += 1
                        if progress is not None and tally.count % 10000 == 0:
                            progress(tally.count)
                except Exception as e:
                    tally.errors[type(e).__name__] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    continue
                if headers.get(b"connection", b"").lower() == b"close":
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()
    await asyncio.gather(*[worker() for _ in range(connections)])
    tally.elapsed = time.perf_counter() - start
    return tally



def flood(port, paths, connections=8, pipeline=1, timeout=30.0, progress=None):
    """
    GET each of C{paths} once, over C{connections} keep-alive connections,
    C{pipeline} requests at a time on each (HTTP/1.1 pipelining).  Only
    statuses are tallied (no per-response latency or headers).

    @param paths: An iterable of L{bytes}.
    @param progress: L{None}, or called with the count every 10,000
        responses.
    @rtype: L{Tally}
    """
    return asyncio.run(_flood(port, paths, connections, pipeline, timeout, progress))
