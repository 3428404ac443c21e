"""
Turn trial's closing line into counts, and counts into one summary line.

C{trialsummary.py ENV RC [TEST-SECONDS BUILD-SECONDS] < trial-output} prints
C{ENV passed failed skipped [test-seconds build-seconds]};
C{trialsummary.py --total < those-lines} prints the per-environment counts
(and times) and the closing line C{N passed, N failed, N skipped}.
"""

from __future__ import print_function

import re
import sys


def parse(text, rc):
    """
    Read trial's closing C{PASSED (...)} or C{FAILED (...)} line.

    @return: C{(passed, failed, skipped)}; a run that printed no closing line
        counts as one failure.
    """
    counts = {}
    for line in text.splitlines():
        m = re.match(r"^(PASSED|FAILED) \((.*)\)\s*$", line)
        if m:
            counts = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2)))
    if not counts and rc != 0:
        return 0, 1, 0
    passed = counts.get("successes", 0) + counts.get("expectedFailures", 0)
    failed = (counts.get("failures", 0) + counts.get("errors", 0)
              + counts.get("unexpectedSuccesses", 0))
    if rc != 0 and failed == 0:
        failed = 1
    return passed, failed, counts.get("skips", 0)


def main(argv):
    if argv[1:] == ["--total"]:
        total = [0, 0, 0]
        for line in sys.stdin:
            fields = line.split()
            env, counts, times = fields[0], fields[1:4], fields[4:]
            timing = ""
            if len(times) == 2:
                timing = " (tests %ss; virtualenv %s)" % (
                    times[0],
                    "built in %ss" % (times[1],) if float(times[1]) else "up to date")
            print("%s: %s passed, %s failed, %s skipped%s" % (
                (env,) + tuple(counts) + (timing,)))
            for i, n in enumerate(counts):
                total[i] += int(n)
        print("%d passed, %d failed, %d skipped" % tuple(total))
        return 1 if total[1] else 0
    env, rc = argv[1], int(argv[2])
    print(env, *(parse(sys.stdin.read(), rc) + tuple(argv[3:5])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
