"""
Turn trial's closing line into counts, and counts into one summary line.

C{trialsummary.py ENV RC < trial-output} prints C{ENV passed failed skipped};
C{trialsummary.py --total < those-lines} prints the per-environment counts and
the closing line C{N passed, N failed, N skipped}.
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
            env, p, f, s = line.split()
            print("%s: %s passed, %s failed, %s skipped" % (env, p, f, s))
            for i, n in enumerate((p, f, s)):
                total[i] += int(n)
        print("%d passed, %d failed, %d skipped" % tuple(total))
        return 1 if total[1] else 0
    env, rc = argv[1], int(argv[2])
    print(env, *parse(sys.stdin.read(), rc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
