"""
The load generators the runner drives (Python 3): C{ab} (apache2-utils, the
seed's tool) and C{wrk}, each run as a process, optionally pinned to a CPU,
with its output parsed.
"""

import os
import re
import subprocess

__all__ = ["ab", "wrk", "MISS_SCRIPT", "ClientFailed"]

# wrk script: every request for a distinct URL, PATH?r=PREFIX-N.
MISS_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "miss.lua")



class ClientFailed(Exception):
    """
    A load generator failed or printed nothing usable.
    """



def _pinned(argv, cpu):
    return (["taskset", "-c", str(cpu)] + argv) if cpu is not None else argv



def ab(url, requests=100, concurrency=2, cpu=None, timeout=120):
    """
    Run C{ab -n REQUESTS -c CONCURRENCY URL} (HTTP/1.0, no keep-alive, as
    in the seed).

    @return: A L{dict}: C{rps}, C{complete}, C{failed}, C{non2xx},
        C{length} (document length), C{meanMs} (time per request, mean).
    """
    argv = _pinned(["ab", "-q", "-s", "30", "-n", str(requests), "-c", str(concurrency), url],
                   cpu)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ClientFailed("ab timed out on %s" % (url,))

    def field(name, default=None, cast=float):
        match = re.search(r"^%s:\s+([\d.]+)" % (re.escape(name),), out.stdout, re.M)
        return cast(match.group(1)) if match else default
    rps = field("Requests per second")
    if out.returncode != 0 or rps is None:
        raise ClientFailed("ab failed on %s: %s" % (url, (out.stderr or out.stdout)[-500:]))
    return {
        "rps": rps,
        "complete": field("Complete requests", 0, int),
        "failed": field("Failed requests", 0, int),
        "non2xx": field("Non-2xx responses", 0, int),
        "length": field("Document Length", 0, int),
        "meanMs": field("Time per request"),
    }



_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}



def _ms(text):
    match = re.match(r"([\d.]+)(us|ms|s|m|h)$", text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]



def wrk(url, connections, duration, cpu=None, script=None, scriptArgs=(), threads=1,
        timeout="10s"):
    """
    Run C{wrk -t THREADS -c CONNECTIONS -d DURATION --latency URL}
    (HTTP/1.1 keep-alive).

    @param duration: Whole seconds.
    @return: A L{dict}: C{rps}, C{requests}, C{p50}, C{p75}, C{p90},
        C{p99} (milliseconds), C{errors} (socket errors), C{non2xx}.
    """
    threads = min(threads, connections)
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", "%ds" % (duration,),
            "--timeout", timeout, "--latency"]
    if script is not None:
        argv += ["-s", script]
    argv.append(url)
    if scriptArgs:
        argv += ["--"] + list(scriptArgs)
    try:
        out = subprocess.run(_pinned(argv, cpu), capture_output=True, text=True,
                             timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise ClientFailed("wrk did not finish on %s" % (url,))
    text = out.stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if out.returncode != 0 or rps is None:
        raise ClientFailed("wrk failed on %s: %s" % (url, (out.stderr or text)[-500:]))
    result = {"rps": float(rps.group(1))}
    requests = re.search(r"^\s*(\d+) requests in", text, re.M)
    result["requests"] = int(requests.group(1)) if requests else 0
    for percent in (50, 75, 90, 99):
        match = re.search(r"^\s+%d%%\s+(\S+)" % (percent,), text, re.M)
        result["p%d" % (percent,)] = _ms(match.group(1)) if match else None
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    result["errors"] = sum(int(g) for g in errors.groups()) if errors else 0
    result["timeouts"] = int(errors.group(4)) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    result["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result
