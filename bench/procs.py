"""
Server processes for the benchmark runner (Python 3): start each on a free
port of 127.0.0.1, wait until it answers, read its RSS, stop it.

Every process is started in its own session, so that stopping it (SIGTERM,
then SIGKILL to its process group after a grace period) also stops what it
started (nginx's worker) and nothing else.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import time

__all__ = ["freePort", "Server", "ServerFailed", "nginxConfig"]



class ServerFailed(Exception):
    """
    A server did not start, or did not answer in time.
    """



def freePort():
    """
    @return: A TCP port of 127.0.0.1 that nothing listens on now.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def cpuTicks(pid):
    """
    @return: The clock ticks of CPU (user and system) process C{pid} has
        used so far, or L{None} if it is gone.
    """
    try:
        with open("/proc/%d/stat" % (pid,)) as stat:
            # After the command's name: the state (field 3), ... utime (14),
            # stime (15).
            fields = stat.read().rsplit(")", 1)[1].split()
    except (IOError, OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])



def _status(pid, field):
    try:
        with open("/proc/%d/status" % (pid,)) as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None



class Server(object):
    """
    One benchmark server process.

    @ivar name: Short name (C{bare27}, C{nc-fresh}, ...).
    @ivar label: What it is, for the tables.
    @ivar port: The port it listens on, once started.
    @ivar statsPath: Where it answers with its JSON statistics, or L{None}
        (nginx).
    """

    def __init__(self, name, label, argv, env=None, logDir=None, readyPath=b"/_bench/stats",
                 statsPath=b"/_bench/stats", cpu=None, prepare=None):
        """
        @param argv: The command, with C{{port}} where the port goes.
        @param cpu: A CPU number to pin it to with C{taskset}, or L{None}.
        @param prepare: L{None}, or a callable taking the port, called before
            each start (to write a configuration file).
        """
        self.name = name
        self.label = label
        self._argv = argv
        self._env = env
        self._logDir = logDir
        self._readyPath = readyPath
        self.statsPath = statsPath
        self._cpu = cpu
        self._prepare = prepare
        self.port = None
        self.process = None
        self._log = None


    @property
    def pid(self):
        return self.process.pid if self.process is not None else None


    def url(self, path):
        """
        @return: The absolute URL of C{path} (text) on this server.
        """
        return "http://127.0.0.1:%d%s" % (self.port, path)


    def start(self, timeout=30.0, attempts=3):
        """
        Start the process on a free port and wait until it answers.

        @raise ServerFailed: If it exits or does not answer within
            C{timeout} seconds (after C{attempts} tries on fresh ports).
        """
        for attempt in range(attempts):
            self.port = freePort()
            if self._prepare is not None:
                self._prepare(self.port)
            argv = [a.format(port=self.port) for a in self._argv]
            if self._cpu is not None:
                argv = ["taskset", "-c", str(self._cpu)] + argv
            logPath = os.devnull
            if self._logDir is not None:
                logPath = os.path.join(self._logDir, "%s.log" % (self.name,))
            self._log = open(logPath, "ab")
            self.process = subprocess.Popen(
                argv, env=self._env, stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT, start_new_session=True)
            try:
                self._waitReady(timeout)
                return self
            except ServerFailed:
                self.stop()
                if attempt == attempts - 1:
                    raise


    def _waitReady(self, timeout):
        """
        Poll the port until the server answers C{readyPath} with a 200.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServerFailed("%s exited with status %s (log: %s)"
                                   % (self.name, self.process.returncode, self._log.name))
            try:
                status, _ = self.get(self._readyPath, timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed("%s did not answer on port %d within %ss"
                                   % (self.name, self.port, timeout))
            # A poll interval, not a readiness guess: the loop ends on an answer.
            time.sleep(0.05)


    def get(self, path, timeout=10.0, headers=None):
        """
        One HTTP GET on a fresh connection.

        @param path: L{bytes} or text.
        @return: C{(status, body)}.
        """
        if isinstance(path, bytes):
            path = path.decode("ascii")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


    def stats(self):
        """
        @return: The server's C{/_bench/stats} document (a L{dict}), with
            C{rss} and C{peakRss} read from C{/proc} for servers without one.
        """
        if self.statsPath is None:
            return {"rss": self.rss(), "peakRss": _status(self.pid, "VmHWM")}
        status, body = self.get(self.statsPath)
        if status != 200:
            raise ServerFailed("%s: stats answered %d" % (self.name, status))
        return json.loads(body)


    def rss(self):
        """
        @return: The resident set size of the process, in bytes.
        """
        return _status(self.pid, "VmRSS")


    def stop(self, grace=10.0):
        """
        Stop the process: SIGTERM, then SIGKILL to its process group if it
        has not exited after C{grace} seconds.

        @return: Its exit status.
        """
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        # The session may hold children (nginx's worker) that outlived it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._log is not None:
            self._log.close()
            self._log = None
        self.process = None
        return process.returncode



def nginxConfig(directory, docroot, port):
    """
    Write a foreground nginx configuration serving C{docroot} on
    127.0.0.1:C{port}: one worker, no access log, its own pid file, error
    log and temp paths under C{directory}.  C{/10k} is C{docroot/10k.html},
    served with Nevow's C{Content-Type}.

    @return: The configuration's path.
    """
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w") as f:
        f.write("""\
daemon off;
master_process on;
worker_processes 1;
user root;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(dir)s/client_body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=100;
    default_type "text/html; charset=utf-8";
    types { }
    server {
        listen 127.0.0.1:%(port)d backlog=1024;
        root %(docroot)s;
        location / { try_files $uri.html =404; }
        location = /_bench/ready { return 200 "ok"; }
    }
}
""" % {"dir": directory, "docroot": docroot, "port": port})
    return path
