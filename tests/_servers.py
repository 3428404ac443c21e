"""
Real memcached and Redis servers for the tests, on free loopback ports.

Each kind is started once per test run, when a test first asks for it, and
stopped when the run ends.  Tests keep apart by namespace, not by server.
Servers are plain subprocesses, not reactor processes, so that trial's
check for a clean reactor after each test does not see them.
"""

from __future__ import absolute_import, division

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

_COMMANDS = {
    "memcached": lambda port: [
        "memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64",
        "-t", "2"] + (["-u", "root"] if os.geteuid() == 0 else []),
    "redis-server": lambda port: [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
}

_running = {}



def freePort():
    """
    @return: A TCP port on 127.0.0.1 nobody listens on right now.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()



def missing(binary):
    """
    @return: Why a server cannot be started (a skip reason), or L{None}.
    """
    for directory in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin",
                                                                     "/usr/bin"]:
        if os.access(os.path.join(directory, binary), os.X_OK):
            return None
    return ("%s is not installed (Debian: apt-get install %s); .ci/run installs it"
            % (binary, "memcached" if binary == "memcached" else "redis-server"))



class Server(object):
    """
    One server process.

    @ivar port: Its TCP port on 127.0.0.1.
    """

    def __init__(self, binary, port=None, extra=(), config=None):
        """
        @param extra: More arguments for its command line.
        @param config: If given, the text of a configuration file (with
            C{{port}} and C{{dir}} in it): the server is started with it,
            written once in its directory (which it may rewrite, as
            Sentinel does), instead of its usual command line.
        """
        self.binary = binary
        self.port = port or freePort()
        self._extra = list(extra)
        self._config = config
        self._dir = tempfile.mkdtemp(prefix="nevowcache-" + binary + "-")
        self._log = open(os.path.join(self._dir, "log"), "wb")
        self.process = None
        self.start()


    def start(self):
        """
        Start it (again, on the same port), and wait until it accepts
        connections.
        """
        command = _COMMANDS[self.binary](self.port)
        if self._config is not None:
            path = os.path.join(self._dir, "server.conf")
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write(self._config.format(port=self.port, dir=self._dir))
            command = [command[0], path]
        self.process = subprocess.Popen(
            command + self._extra, cwd=self._dir,
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("%s exited with %s; see %s" % (
                    self.binary, self.process.returncode, self._dir))
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except socket.error:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError("%s did not start on port %d"
                                       % (self.binary, self.port))
                time.sleep(0.02)


    def stop(self, sig=signal.SIGKILL):
        """
        Stop it at once (by default as a crash would).
        """
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait()
        self.process = None


    def pause(self):
        """
        Freeze it: connections stay open and nothing is answered.  Returns
        once every thread of it has stopped (a signal stops the threads of
        a process one by one).
        """
        self.process.send_signal(signal.SIGSTOP)
        tasks = "/proc/%d/task" % (self.process.pid,)
        deadline = time.time() + 5
        while os.path.isdir(tasks) and time.time() < deadline:
            states = []
            for task in os.listdir(tasks):
                try:
                    with open(os.path.join(tasks, task, "stat")) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
                except (IOError, OSError, IndexError):
                    pass
            if states and all(state in ("T", "t") for state in states):
                return
            time.sleep(0.005)


    def resume(self):
        self.process.send_signal(signal.SIGCONT)


    def cleanUp(self):
        self.stop()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)



_SENTINEL = """\
port {{port}}
bind 127.0.0.1
dir {{dir}}
sentinel monitor {name} 127.0.0.1 {primary} 2
sentinel down-after-milliseconds {name} {downAfter}
sentinel failover-timeout {name} {failoverTimeout}
sentinel parallel-syncs {name} 1
"""



def sentinel(name, primary, downAfter=1000, failoverTimeout=2000):
    """
    A Redis Sentinel monitoring the primary on port C{primary} as C{name},
    with a quorum of 2, taking it for down after C{downAfter} milliseconds
    without an answer.
    """
    return Server("redis-server", config=_SENTINEL.format(
        name=name, primary=primary, downAfter=downAfter,
        failoverTimeout=failoverTimeout), extra=["--sentinel"])



def shared(binary):
    """
    The server of this kind shared by the whole run, started on first use.

    @raise RuntimeError: If it cannot be started.
    """
    server = _running.get(binary)
    if server is None or server.process is None or server.process.poll() is not None:
        if server is not None:
            server.cleanUp()
        server = _running[binary] = Server(binary)
    return server



def sharedPool(binary, count):
    """
    C{count} servers of this kind shared by the whole run (a pool), started
    on first use.

    @return: A L{list} of L{Server}s.
    """
    pool = []
    for index in range(count):
        name = "%s pool %d" % (binary, index)
        server = _running.get(name)
        if server is None or server.process is None or server.process.poll() is not None:
            if server is not None:
                server.cleanUp()
            server = _running[name] = Server(binary)
        pool.append(server)
    return pool



def _stopAll():
    for server in _running.values():
        server.cleanUp()

atexit.register(_stopAll)
