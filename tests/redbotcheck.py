"""
Lint one URL with REDbot (Python 3 only), and print its notes as JSON.

    python -m tests.redbotcheck URL [--method HEAD] [--header 'Name: value']...

One URL per process: REDbot's event loop (thor) does not start again once
stopped.  A watchdog stops the loop after C{--timeout} seconds; the JSON
then says C{"complete": false}.

Output: C{{"complete": bool, "status": "200", "headers": [[name, value],
...], "notes": [{"check": "default" or a subrequest's id, "name":
"LM_FUTURE", "level": "bad", "summary": "..."}, ...]}}.  Notes of
subrequests (REDbot's own conditional, gzip and range requests) are listed
after the main response's, with their check's id.
"""

from __future__ import print_function

import argparse
import json
import sys


def _notes(check, notes, out):
    for note in notes:
        out.append({"check": check, "name": note.__class__.__name__,
                    "level": note.level.value, "summary": str(note.summary),
                    "subnotes": [n.__class__.__name__ for n in note.subnotes]})


def lint(url, method="GET", headers=(), timeout=20.0):
    """
    Run REDbot against C{url}.

    @return: The L{dict} described in the module documentation.
    """
    from configparser import ConfigParser

    import thor
    from redbot.resource import HttpResource

    config = ConfigParser()
    config.read_dict({"redbot": {"enable_local_access": "True"}})
    resource = HttpResource(config["redbot"])
    resource.set_request(url, method=method, headers=list(headers))
    state = {"done": False}

    @thor.events.on(resource)
    def check_done():
        state["done"] = True
        thor.stop()

    thor.schedule(timeout, thor.stop)
    resource.check()
    thor.run()
    out = []
    _notes("default", resource.response.notes, out)
    for checkId, sub in sorted(resource.subreqs.items()):
        if sub.response is not None:
            _notes(checkId, sub.response.notes, out)
    response = resource.response
    return {
        "complete": state["done"],
        "status": response.status_code,
        "headers": [list(pair) for pair in (response.headers.text or [])],
        "notes": out,
    }


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    headers = [tuple(part.strip() for part in h.split(":", 1)) for h in args.header]
    result = lint(args.url, args.method, headers, args.timeout)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
