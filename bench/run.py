"""
The nevowcache benchmark runner (Python 3).

    ./dev bench            # the full run (about 10 minutes on 2 idle cores)
    ./dev bench --quick    # a short run (about 2 minutes)
    ./dev bench --help     # every option

It starts every server as its own process on 127.0.0.1 (Nevow and
twisted.web on Python 2.7 / Twisted 20.3, twisted.web on Python 3 / current
Twisted, nginx), checks that they all serve the same bytes, drives them
with ab and wrk in interleaved rounds, runs the cold burst, the memory
flood and the in-process profile, stops every server, and writes
C{bench/results/latest.md}, C{latest.json} and C{chart.png}.  Every
throughput is also given as a ratio to the bare twisted.web resource on
Python 2.7 measured in the same run.  See C{bench/README.md}.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from bench import clients, loadclient, procs, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PY27 = os.environ.get("NEVOWCACHE_BENCH_PY27",
                      os.path.join(ROOT, ".venv", "py27", "bin", "python"))
PY3 = sys.executable
SIZES = ("1k", "10k", "100k")
BASELINE = "bare27"

# Every server, in table order: name, label, group.
SERVERS = [
    ("bare27", "twisted.web Resource, py2.7 / Twisted 20.3 (baseline)", "py27"),
    ("nevow", "Nevow page, uncached", "nevow"),
    ("naive", "naive 2005 dict cache (Nevow)", "nevow"),
    ("nc-fresh", "nevowcache CachedPage: fresh hit", "nevow"),
    ("nc-stale", "nevowcache CachedPage: stale hit, refreshes running", "nevow"),
    ("nc-miss", "nevowcache CachedPage: miss (unique query string)", "nevow"),
    ("nc-site", "nevowcache.CachingSite: fresh hit", "nevow"),
    ("web27", "nevowcache.web CachedResource, py2.7: fresh hit", "py27"),
    ("bare3", "twisted.web Resource, py3.11 / Twisted 26.10", "py3"),
    ("web3", "nevowcache.web CachedResource, py3: fresh hit", "py3"),
    # Shared stores, without and with a near tier (NearStore), fresh hits.
    ("nc-redis", "CachedPage over RedisStore (one local Redis)", "shared"),
    ("nc-redis-near", "CachedPage over NearStore(RedisStore)", "shared"),
    ("nc-mc", "CachedPage over MemcachedStore (one local memcached)", "shared"),
    ("nc-mc-near", "CachedPage over NearStore(MemcachedStore)", "shared"),
    ("site-redis", "CachingSite over RedisStore", "shared"),
    ("site-redis-near", "CachingSite over NearStore(RedisStore)", "shared"),
    ("site-mc", "CachingSite over MemcachedStore", "shared"),
    ("site-mc-near", "CachingSite over NearStore(MemcachedStore)", "shared"),
    ("web3-redis", "CachedResource, py3, over RedisStore", "shared"),
    ("web3-redis-near", "CachedResource, py3, over NearStore(RedisStore)", "shared"),
    ("web3-mc", "CachedResource, py3, over MemcachedStore", "shared"),
    ("web3-mc-near", "CachedResource, py3, over NearStore(MemcachedStore)", "shared"),
    ("nginx", "nginx, 1 worker: the same file", "nginx"),
]

# The shared-store servers: (store, near tier?), and the MemoryStore server
# of the same site kind that a near-tier hit is compared with.
STORE_SERVERS = {
    "nc-redis": ("redis", False), "nc-redis-near": ("redis", True),
    "nc-mc": ("memcached", False), "nc-mc-near": ("memcached", True),
    "site-redis": ("redis", False), "site-redis-near": ("redis", True),
    "site-mc": ("memcached", False), "site-mc-near": ("memcached", True),
    "web3-redis": ("redis", False), "web3-redis-near": ("redis", True),
    "web3-mc": ("memcached", False), "web3-mc-near": ("memcached", True),
}
NEAR_PAIRS = [("nc-redis-near", "nc-fresh"), ("nc-mc-near", "nc-fresh"),
              ("site-redis-near", "nc-site"), ("site-mc-near", "nc-site"),
              ("web3-redis-near", "web3"), ("web3-mc-near", "web3")]

# The store servers the shared-store rows use.
STORE_COMMANDS = {
    "memcached": lambda port: ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                               "-m", "256", "-t", "1"]
    + (["-u", "root"] if os.geteuid() == 0 else []),
    "redis": lambda port: ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--loglevel", "warning"],
}
LABELS = dict((name, label) for name, label, _ in SERVERS)

# Servers measured at the other page sizes.
SIZE_SERVERS = ("bare27", "nevow", "naive", "nc-fresh", "nc-site", "web27", "bare3",
                "web3", "nginx")

# Five rounds in a full run: on the shared machines a 1-second wrk run now
# and then loses 30-40% of its requests to something outside the run (any
# server, at any concurrency, with no other process using the CPU), and two
# such rounds out of three make the median.
PROFILES = {
    "full": dict(rounds=5, duration=1, concurrency=(1, 2, 16, 64), floodUrls=10 ** 6,
                 profileRequests=2000),
    "quick": dict(rounds=1, duration=1, concurrency=(1, 16, 64), floodUrls=10 ** 5,
                  profileRequests=300),
}

_started = time.monotonic()



def say(message):
    """
    Progress, on standard error, with the time since the start.
    """
    sys.stderr.write("[%5.0fs] %s\n" % (time.monotonic() - _started, message))
    sys.stderr.flush()



def parseArgs(argv):
    parser = argparse.ArgumentParser(
        prog="./dev bench", description="Run the nevowcache benchmark suite.",
        epilog="See bench/README.md for what each figure means.")
    parser.add_argument("--quick", action="store_true",
                        help="one round, c=1,16,64, a 10^5 flood, a shorter profile "
                             "(about 2 minutes)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per measurement")
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument("--concurrency", help="wrk connections, comma-separated (1,2,16,64)")
    parser.add_argument("--size-concurrency", type=int, default=16,
                        help="wrk connections for the 1 KB and 100 KB pages")
    parser.add_argument("--ab-requests", type=int, default=100, help="ab -n (100)")
    parser.add_argument("--ab-concurrency", type=int, default=2, help="ab -c (2)")
    parser.add_argument("--render-ms", type=float, default=0.0,
                        help="extra CPU milliseconds per Nevow render")
    parser.add_argument("--stale-timeout", type=float, default=0.01,
                        help="cacheTimeout (s) of the stale-hit server: short, so that "
                             "background refreshes keep running (0.01)")
    parser.add_argument("--burst", type=int, default=1000,
                        help="concurrent requests in the cold burst (1000)")
    parser.add_argument("--burst-delay-ms", type=float, default=500.0,
                        help="how long the cold page's data takes to arrive (500)")
    parser.add_argument("--flood-urls", type=int,
                        help="distinct URLs in the memory flood (10^6; quick: 10^5)")
    parser.add_argument("--flood-server", choices=("web3", "web27", "nevow"), default="web3",
                        help="which adapter takes the flood (web3)")
    parser.add_argument("--flood-size", choices=SIZES, default="1k",
                        help="the page flooded (1k)")
    parser.add_argument("--flood-max-bytes", type=int, default=32 * 1024 * 1024,
                        help="the flooded MemoryStore's byte bound (32 MiB)")
    parser.add_argument("--servers",
                        help="only these servers, comma-separated (bare27 is always run)")
    parser.add_argument("--skip", default="",
                        help="sections to skip, comma-separated: ab,wrk,sizes,burst,flood,"
                             "profile")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin servers to CPU 0 and clients to CPU 1")
    parser.add_argument("--no-install", action="store_true",
                        help="do not apt-get/pip install missing tools")
    parser.add_argument("--no-chart", action="store_true", help="no PNG chart")
    parser.add_argument("--out", default=os.path.join(BENCH, "results"),
                        help="where to write latest.md, latest.json, chart.png")
    parser.add_argument("--publish", action="store_true",
                        help="also copy the results to bench/RESULTS.md and bench/chart.png")
    options = parser.parse_args(argv)
    profile = PROFILES["quick" if options.quick else "full"]
    options.mode = "quick" if options.quick else "full"
    options.rounds = options.rounds or profile["rounds"]
    options.abRounds = options.rounds
    options.duration = options.duration or profile["duration"]
    options.concurrency = (tuple(int(c) for c in options.concurrency.split(","))
                           if options.concurrency else profile["concurrency"])
    options.flood_urls = options.flood_urls or profile["floodUrls"]
    options.profileRequests = profile["profileRequests"]
    options.skip = set(s for s in options.skip.split(",") if s)
    return options



# Tools

def _run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)



def ensureTools(options, notes):
    """
    Find ab, wrk, nginx and taskset; install the missing ones with apt-get
    where we are root (unless C{--no-install}).

    @return: A L{dict} of tool name to whether it is there.
    """
    packages = {"ab": "apache2-utils", "wrk": "wrk", "nginx": "nginx-light",
                "taskset": "util-linux"}
    missing = [tool for tool in packages if shutil.which(tool) is None]
    if missing and not options.no_install and os.geteuid() == 0 and shutil.which("apt-get"):
        wanted = sorted(set(packages[t] for t in missing))
        say("installing %s with apt-get" % (", ".join(wanted),))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + wanted
        if _run(install, env=env).returncode != 0:
            _run(["apt-get", "update", "-q"], env=env)
            _run(install, env=env)
    found = dict((tool, shutil.which(tool) is not None) for tool in packages)
    for tool, there in sorted(found.items()):
        if not there:
            notes.append("`%s` is not available (Debian package `%s`): its measurements "
                         "are skipped." % (tool, packages[tool]))
    return found



def ensureMatplotlib(options, notes):
    """
    Find matplotlib, installing it into this interpreter's environment with
    pip if it is missing (unless C{--no-install}).  It is only the chart's:
    it is in no requirements file.

    @return: Whether it can be imported.
    """
    import importlib.util
    if importlib.util.find_spec("matplotlib") is None and not options.no_install:
        say("installing matplotlib into %s" % (sys.prefix,))
        _run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
              "matplotlib"])
        importlib.invalidate_caches()
    if importlib.util.find_spec("matplotlib") is None:
        notes.append("matplotlib is not available: no chart.")
        return False
    return True



def _cpuTicks():
    """
    @return: C{(busy, total)} clock ticks of the whole machine so far.
    """
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total



def cpuShare(start):
    """
    How much of the machine's CPU time since C{start} (from L{_cpuTicks} and
    L{os.times}) this run used, and how much other processes used.

    @return: A L{dict}: C{machineBusy}, C{ours}, C{others} (CPU seconds),
        C{wall} (seconds), C{cpus}.
    """
    (busy0, total0), times0, wall0 = start
    busy1, total1 = _cpuTicks()
    times1 = os.times()
    hz = os.sysconf("SC_CLK_TCK")
    ours = sum(times1[:4]) - sum(times0[:4])
    busy = (busy1 - busy0) / hz
    return {"machineBusy": busy, "ours": ours, "others": max(0.0, busy - ours),
            "wall": time.monotonic() - wall0, "cpus": os.cpu_count()}



def _loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])



def machine(tools):
    """
    @return: A L{dict} describing this machine and the software measured.
    """
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    info = {
        "loadavg": _loadavg(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    with open("/proc/meminfo") as f:
        info["memory"] = "%.1f GiB" % (int(f.readline().split()[1]) / 2 ** 20,)
    commit = _run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = _run(["git", "-C", ROOT, "status", "--porcelain", "--", "nevowcache"]).stdout.strip()
    info["commit"] = commit + (" + uncommitted changes to nevowcache/" if dirty else "")
    if tools.get("wrk"):
        info["wrk"] = _run(["wrk", "-v"]).stdout.split("\n")[0].split(" [")[0].strip()
    if tools.get("ab"):
        info["ab"] = _run(["ab", "-V"]).stdout.split("\n")[0].strip()
    if tools.get("nginx"):
        info["nginx"] = _run(["nginx", "-v"]).stderr.strip()
    return info



# Servers

class Bench(object):
    """
    One run: its servers, settings and results.
    """

    def __init__(self, options, tools, notes):
        self.options = options
        self.tools = tools
        self.notes = notes
        self.tmp = tempfile.mkdtemp(prefix="nevowcache-bench-")
        os.chmod(self.tmp, 0o755)
        self.docroot = os.path.join(self.tmp, "docroot")
        os.mkdir(self.docroot)
        self.logDir = os.path.join(options.out, "logs")
        os.makedirs(self.logDir, exist_ok=True)
        for name in os.listdir(self.logDir):
            os.remove(os.path.join(self.logDir, name))
        pin = not options.no_pin and tools["taskset"] and len(os.sched_getaffinity(0)) >= 2
        self.serverCpu = 0 if pin else None
        self.clientCpu = 1 if pin else None
        if pin:
            # The runner is a client too (the burst, the flood): keep it off
            # the servers' CPU.  Servers are started through taskset.
            os.sched_setaffinity(0, {self.clientCpu})
        self.servers = {}
        self.unavailable = {}
        self.results = {"settings": self.settings(), "notes": notes, "ab": {},
                        "wrk": {}, "serverStats": {}}
        self.reference = {}
        self._durations = {}
        self.stores = {}


    def settings(self):
        o = self.options
        return {"mode": o.mode, "rounds": o.rounds, "duration": o.duration,
                "concurrency": list(o.concurrency), "sizeConcurrency": o.size_concurrency,
                "abRequests": o.ab_requests, "abConcurrency": o.ab_concurrency,
                "renderMs": o.render_ms, "staleTimeout": o.stale_timeout,
                "burst": o.burst, "burstDelayMs": o.burst_delay_ms,
                "floodUrls": o.flood_urls, "floodServer": o.flood_server,
                "floodSize": o.flood_size, "floodMaxBytes": o.flood_max_bytes,
                "pinned": not o.no_pin}


    def _env(self):
        return dict(os.environ, PYTHONPATH=ROOT, PYTHONHASHSEED="random")


    def _nevow(self, name, variant, *extra):
        o = self.options
        argv = [PY27, "-m", "bench.servers.nevowsite", "--variant", variant,
                "--port", "{port}", "--render-ms", str(o.render_ms),
                "--burst-delay-ms", str(o.burst_delay_ms)] + list(extra)
        return procs.Server(name, LABELS.get(name, name), argv, env=self._env(),
                            logDir=self.logDir, cpu=self.serverCpu)


    def _web(self, name, python, variant, *extra):
        argv = [python, "-m", "bench.servers.website", "--variant", variant,
                "--port", "{port}", "--docroot", self.docroot] + list(extra)
        return procs.Server(name, LABELS.get(name, name), argv, env=self._env(),
                            logDir=self.logDir, cpu=self.serverCpu)


    def _nginx(self):
        directory = os.path.join(self.tmp, "nginx")
        os.mkdir(directory)
        config = os.path.join(directory, "nginx.conf")
        return procs.Server(
            "nginx", LABELS["nginx"], ["nginx", "-p", directory, "-c", config],
            logDir=self.logDir, readyPath=b"/_bench/ready", statsPath=None,
            cpu=self.serverCpu,
            prepare=lambda port: procs.nginxConfig(directory, self.docroot, port))


    def _storeServer(self, kind):
        """
        Start the Redis or memcached server the shared-store rows use (once,
        on the servers' CPU).

        @return: Its port, or L{None} if it could not be started.
        """
        if kind in self.stores:
            return self.stores[kind][1]
        binary = "redis-server" if kind == "redis" else "memcached"
        if shutil.which(binary) is None:
            self.stores[kind] = (None, None)
            return None
        port = procs.freePort()
        argv = STORE_COMMANDS[kind](port)
        if self.serverCpu is not None:
            argv = ["taskset", "-c", str(self.serverCpu)] + argv
        log = open(os.path.join(self.logDir, "store-%s.log" % (kind,)), "wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        import socket
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    self.stores[kind] = (None, None)
                    return None
                time.sleep(0.02)
        self.stores[kind] = (process, port)
        return port


    def stopStores(self):
        for kind, (process, _) in list(self.stores.items()):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        self.stores.clear()


    def _shared(self, name):
        """
        The server of a shared-store row.
        """
        kind, near = STORE_SERVERS[name]
        port = self._storeServer(kind)
        if port is None:
            raise procs.ServerFailed("no %s server" % (kind,))
        extra = ["--store", kind, "--store-port", str(port)] + (["--near"] if near else [])
        if name.startswith("web3"):
            return self._web(name, PY3, "cached", *extra)
        return self._nevow(name, "cachingsite" if name.startswith("site") else "cached",
                           *extra)


    def wanted(self, name):
        only = self.options.servers
        return name == BASELINE or not only or name in only.split(",")


    def startServers(self):
        """
        Render the page with the uncached Nevow server, write its bytes for
        the others, start every server and check that they all serve the
        same bytes.
        """
        say("starting the Nevow server that renders the reference page")
        nevow = self._nevow("nevow", "uncached").start()
        self.servers["nevow"] = nevow
        for size in SIZES:
            status, body = nevow.get("/" + size)
            if status != 200:
                raise procs.ServerFailed("the reference page /%s answered %d" % (size, status))
            self.reference[size] = body
            with open(os.path.join(self.docroot, size + ".html"), "wb") as f:
                f.write(body)
        self.results["pageBytes"] = dict((s, len(b)) for s, b in self.reference.items())
        o = self.options
        makers = {
            "bare27": lambda: self._web("bare27", PY27, "bare"),
            "naive": lambda: self._nevow("naive", "naive"),
            "nc-fresh": lambda: self._nevow("nc-fresh", "cached"),
            "nc-stale": lambda: self._nevow("nc-stale", "cached",
                                            "--timeout", str(o.stale_timeout)),
            "nc-miss": lambda: self._nevow("nc-miss", "cached"),
            "nc-site": lambda: self._nevow("nc-site", "cachingsite"),
            "web27": lambda: self._web("web27", PY27, "cached"),
            "bare3": lambda: self._web("bare3", PY3, "bare"),
            "web3": lambda: self._web("web3", PY3, "cached"),
            "nginx": self._nginx,
        }
        for name in STORE_SERVERS:
            makers[name] = (lambda name: lambda: self._shared(name))(name)
        hasSite = _run([PY27, "-c", "import nevowcache, sys; "
                        "sys.exit(0 if hasattr(nevowcache, 'CachingSite') else 3)"],
                       env=self._env()).returncode == 0
        for name, _, _ in SERVERS:
            if name == "nevow" or not self.wanted(name):
                continue
            if (name == "nc-site" or name.startswith("site-")) and not hasSite:
                self.unavailable[name] = "not available (nevowcache has no CachingSite)"
                continue
            if name == "nginx" and not self.tools["nginx"]:
                self.unavailable[name] = "not available (no nginx)"
                continue
            say("starting %s" % (name,))
            try:
                self.servers[name] = makers[name]().start()
            except procs.ServerFailed as e:
                self.unavailable[name] = "failed to start: %s" % (e,)
                self.notes.append("%s failed to start: %s" % (name, e))
        if not self.wanted("nevow"):
            self.servers.pop("nevow").stop()
        if BASELINE not in self.servers:
            raise procs.ServerFailed("the baseline server did not start")
        self.verify()


    def path(self, name, size):
        return "/" + size + ("?r=verify-%s" % (uuid.uuid4().hex,) if name == "nc-miss" else "")


    def verify(self):
        """
        Every server must serve the reference bytes at every size (this
        also fills the caches: the first request of a cached server is a
        miss).
        """
        for name, server in sorted(self.servers.items()):
            for size in SIZES:
                status, body = server.get(self.path(name, size))
                if status != 200 or body != self.reference[size]:
                    raise procs.ServerFailed(
                        "%s serves other bytes at /%s (status %d, %d bytes, expected %d)"
                        % (name, size, status, len(body), len(self.reference[size])))
        say("all %d servers serve the same bytes (%s)" % (
            len(self.servers), ", ".join("%s: %d" % (s, len(self.reference[s]))
                                         for s in SIZES)))


    def stopServers(self):
        for name, server in list(self.servers.items()):
            try:
                self.results["serverStats"][name] = server.stats()
            except Exception:
                pass
            server.stop()
        self.servers.clear()


    def order(self, names):
        return [n for n, _, _ in SERVERS if n in names and n in self.servers]


    # Sections

    def warmUp(self):
        """
        A few hundred requests to each server (but the uncached and miss
        ones, which have nothing to warm), so that the first measured round
        does not pay for first-time costs.
        """
        say("warming up")
        for name in self.order(self.servers):
            if name in ("nevow", "nc-miss"):
                continue
            for size in SIZES:
                url = self.servers[name].url("/" + size)
                try:
                    if self.tools["ab"]:
                        clients.ab(url, 300, 4, cpu=self.clientCpu)
                    elif self.tools["wrk"]:
                        clients.wrk(url, 4, 1, cpu=self.clientCpu)
                except clients.ClientFailed as e:
                    self.notes.append("warm-up of %s: %s" % (name, e))


    def settle(self, quiet=0.1, timeout=15.0):
        """
        Wait until no server is using the CPU: what a run leaves behind (an
        uncached server still rendering for the connections wrk closed,
        which can take a second at 64 connections) must not be counted
        against the server measured next on the same CPU.

        @param quiet: How long a look lasts; settled when all servers
            together used at most one clock tick in it.
        @return: Whether they settled within C{timeout} seconds.
        """
        pids = [s.pid for s in self.servers.values() if s.pid is not None]

        def ticks():
            return sum(procs.cpuTicks(pid) or 0 for pid in pids)
        deadline = time.monotonic() + timeout
        last = ticks()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = ticks()
            if now - last <= 1:
                return True
            last = now
        self.notes.append("servers still busy %.0f s after a run" % (timeout,))
        return False


    def _wrk(self, name, size, connections, duration=None, minRequests=10, longest=8):
        """
        One wrk run.  A run that completes fewer than C{minRequests}
        requests (the uncached 100 KB page takes seconds per request under
        load) is run again, four times longer, up to C{longest} seconds;
        later rounds of the same measurement start at the longer duration.
        """
        server = self.servers[name]
        slow = (name, size, connections)
        duration = duration or self._durations.get(slow, self.options.duration)
        while True:
            self.settle()
            if name == "nc-miss":
                result = clients.wrk(server.url("/"), connections, duration,
                                     cpu=self.clientCpu, script=clients.MISS_SCRIPT,
                                     scriptArgs=("/" + size, uuid.uuid4().hex[:8]))
            else:
                result = clients.wrk(server.url("/" + size), connections, duration,
                                     cpu=self.clientCpu)
            if result["requests"] >= minRequests or duration >= longest:
                result["duration"] = duration
                if duration > self.options.duration:
                    self._durations[slow] = duration
                return result
            duration = min(longest, duration * 4)


    def abSection(self):
        """
        The seed's command, C{ab -n 100 -c 2}, on the 10.6 KB page; every
        server but the miss one (ab asks for one URL), interleaved rounds.
        """
        o = self.options
        names = [n for n in self.order(self.servers) if n != "nc-miss"]
        runs = dict((n, []) for n in names)
        for r in range(o.abRounds):
            say("ab -n %d -c %d, round %d/%d" % (o.ab_requests, o.ab_concurrency, r + 1,
                                                 o.abRounds))
            for name in names:
                self.settle()
                try:
                    result = clients.ab(self.servers[name].url("/10k"), o.ab_requests,
                                        o.ab_concurrency, cpu=self.clientCpu)
                except clients.ClientFailed as e:
                    self.notes.append("ab on %s: %s" % (name, e))
                    continue
                result["round"] = r
                runs[name].append(result)
        self.results["ab"] = runs


    def wrkSection(self, size, concurrencies, names):
        """
        wrk on one page size: for each concurrency, interleaved rounds over
        the servers (A B C A B C ...).
        """
        o = self.options
        table = self.results["wrk"].setdefault(size, {})
        for c in concurrencies:
            runs = table.setdefault(str(c), dict((n, []) for n in names))
            for r in range(o.rounds):
                say("wrk /%s -c %d, round %d/%d" % (size, c, r + 1, o.rounds))
                for name in names:
                    before = self._staleStats(name)
                    try:
                        result = self._wrk(name, size, c)
                    except clients.ClientFailed as e:
                        self.notes.append("wrk on %s: %s" % (name, e))
                        continue
                    if before is not None:
                        after = self._staleStats(name)
                        result["cache"] = dict((k, after[k] - before[k]) for k in after)
                    result["round"] = r
                    runs[name].append(result)


    def _staleStats(self, name):
        if name != "nc-stale":
            return None
        cache = self.servers[name].stats()["cache"]
        return dict((k, cache[k]) for k in ("hits", "staleHits", "refreshes",
                                            "refreshesSkipped", "renders"))


    def burstSection(self):
        """
        The cold burst: N connections, then one request each at once for
        one cold key of a page whose data takes a while; count the renders.
        """
        o = self.options
        out = {}
        for name in ("nc-fresh", "nc-site"):
            server = self.servers.get(name)
            if server is None:
                continue
            say("cold burst: %d concurrent requests on one cold key (%s)" % (o.burst, name))
            before = server.stats()["renders"].get("burst", 0)
            path = ("/burst?cold=%s" % (uuid.uuid4().hex,)).encode("ascii")
            tally = loadclient.burst(server.port, path, o.burst)
            after = server.stats()["renders"].get("burst", 0)
            result = tally.asDict()
            result["renders"] = after - before
            result["bodyOk"] = tally.bodyLengths.get(len(self.reference["10k"]), 0)
            lat = sorted(tally.latencies)
            if lat:
                result["p50"] = lat[len(lat) // 2] * 1e3
                result["max"] = lat[-1] * 1e3
            out[name] = result
        self.results["burst"] = out


    def floodSection(self):
        """
        The memory flood: N distinct query-string URLs against a
        byte-bounded MemoryStore, in a server of its own; RSS from /proc
        before, during and after.
        """
        o = self.options
        extra = ["--max-bytes", str(o.flood_max_bytes), "--max-entries", str(10 ** 7)]
        if o.flood_server == "nevow":
            server = self._nevow("flood", "cached", *extra)
        else:
            server = self._web("flood", PY27 if o.flood_server == "web27" else PY3,
                               "cached", *extra)
        say("memory flood: %d distinct URLs against a %d MiB MemoryStore (%s)"
            % (o.flood_urls, o.flood_max_bytes // 2 ** 20, o.flood_server))
        server.start()
        try:
            page = ("/" + o.flood_size).encode("ascii")
            warm = loadclient.flood(server.port, [page] * 1000, connections=8)
            baseline = server.stats()
            samples = []

            def progress(count):
                samples.append((count, server.rss()))
                if count % 100000 == 0:
                    say("  %d requests, RSS %.1f MiB" % (count, samples[-1][1] / 2 ** 20))
            prefix = uuid.uuid4().hex[:8].encode("ascii")
            paths = (page + b"?r=" + prefix + b"-" + str(i).encode("ascii")
                     for i in range(o.flood_urls))
            tally = loadclient.flood(server.port, paths, connections=16, pipeline=8,
                                     progress=progress)
            after = server.stats()
            self.results["flood"] = {
                "server": o.flood_server, "python": after["python"],
                "twisted": after["twisted"], "urls": o.flood_urls,
                "pageBytes": len(self.reference[o.flood_size]),
                "maxBytes": o.flood_max_bytes, "baselineRss": baseline["rss"],
                "afterRss": after["rss"], "peakRss": after["peakRss"],
                "samples": samples, "store": after["cache"], "elapsed": tally.elapsed,
                "statuses": dict(tally.statuses), "errors": dict(tally.errors),
                "warmStatuses": dict(warm.statuses),
            }
        finally:
            server.stop()


    def profileSection(self):
        """
        The in-process profile, on Python 2.7 and on Python 3.
        """
        out = {}
        for key, python in (("py27", PY27), ("py3", PY3)):
            say("in-process profile of the hit path (%s)" % (key,))
            argv = [python, "-m", "bench.profile_hit", "--docroot", self.docroot,
                    "--requests", str(self.options.profileRequests),
                    "--profile-out", os.path.join(self.options.out, "profile-%s.txt" % (key,))]
            if self.serverCpu is not None:
                argv = ["taskset", "-c", str(self.serverCpu)] + argv
            result = _run(argv, env=self._env(), timeout=600)
            if result.returncode != 0:
                self.notes.append("profile on %s failed: %s" % (key, result.stderr[-500:]))
                continue
            out[key] = json.loads(result.stdout)
        self.results["profile"] = out


    def run(self):
        o = self.options
        try:
            self.startServers()
            self.results["unavailable"] = self.unavailable
            names = self.order(self.servers)
            self.warmUp()
            if self.tools["ab"] and "ab" not in o.skip:
                self.abSection()
            if self.tools["wrk"] and "wrk" not in o.skip:
                self.wrkSection("10k", o.concurrency, names)
            if self.tools["wrk"] and "sizes" not in o.skip:
                sized = [n for n in names if n in SIZE_SERVERS]
                for size in ("1k", "100k"):
                    self.wrkSection(size, (o.size_concurrency,), sized)
            if "burst" not in o.skip:
                self.burstSection()
            self.stopServers()
            if "flood" not in o.skip:
                self.floodSection()
            if "profile" not in o.skip:
                self.profileSection()
        finally:
            self.stopServers()
            self.stopStores()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.results



def _terminated(signum, frame):
    # Unwind through the finally clauses that stop the servers.
    raise SystemExit(128 + signum)



def main(argv):
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    cpuStart = (_cpuTicks(), os.times(), time.monotonic())
    options = parseArgs(argv[1:])
    os.makedirs(options.out, exist_ok=True)
    notes = []
    tools = ensureTools(options, notes)
    chart = not options.no_chart and ensureMatplotlib(options, notes)
    info = machine(tools)  # before the runner pins itself to one CPU
    bench = Bench(options, tools, notes)
    bench.results["machine"] = info
    results = bench.run()
    results["elapsed"] = time.monotonic() - _started
    results["machine"]["loadavgEnd"] = _loadavg()
    results["cpu"] = cpuShare(cpuStart)
    results["labels"] = LABELS
    # The table order (the JSON's keys are sorted).
    results["order"] = [name for name, _, _ in SERVERS]
    with open(os.path.join(options.out, "latest.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    markdown = report.markdown(results)
    with open(os.path.join(options.out, "latest.md"), "w") as f:
        f.write(markdown)
    if chart:
        report.chart(results, os.path.join(options.out, "chart.png"))
    sys.stdout.write(markdown)
    say("wrote %s" % (os.path.join(options.out, "latest.md"),))
    if options.publish:
        shutil.copy(os.path.join(options.out, "latest.md"), os.path.join(BENCH, "RESULTS.md"))
        if chart:
            shutil.copy(os.path.join(options.out, "chart.png"), os.path.join(BENCH, "chart.png"))
        say("published to bench/RESULTS.md and bench/chart.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
