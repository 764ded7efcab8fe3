"""A stream of GETs against the gallery while something else happens to the cluster.

Shared by the Molecule tests (which assert on its failures) and the benchmark
(which prints them); it needs nothing but the nodes' URLs.
"""

import collections
import itertools
import threading
import time

import requests


class RequestLoop:
    """GETs against the gallery in a background thread, while something else happens.

    It plays the load balancer a real cluster has in front of its nodes:
    requests go round-robin to the nodes, and a request that a node does not
    answer at all (connection refused, reset or timed out: its engine is restarting) is
    retried on the next node, as nginx's proxy_next_upstream does for GETs.
    `unsteady` names the nodes (base URLs) a fault is hitting: their 502, 503
    and 504 are retried too (proxy_next_upstream http_502 http_503 http_504),
    because an Nginx whose engine is stopping can still accept a request it can
    no longer forward. Every other node must answer them without error.
    A failure is an HTTP error status, or a request that no node answered.
    """

    GATEWAY_ERRORS = (502, 503, 504)

    def __init__(self, name, urls, paths, pause=0.05, unsteady=(), log=None):
        self.name, self.urls, self.paths, self.pause, self.log = name, list(urls), list(paths), pause, log
        self.unsteady = set(unsteady)
        self.answered, self.retried, self.failures = 0, 0, []
        self.stores = collections.Counter()  # which Redis answered the reads (X-Store)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)
        if self.log is None:
            return
        # The figures, for whoever reports on a run (tests assert, they do not print).
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("a") as log:
            log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.name}: {self.answered} answered, "
                      f"{self.retried} retried on another node, {len(self.failures)} failed; "
                      f"reads by store {dict(self.stores)}\n")

    def _get(self, path, start):
        unanswered = []
        for offset in range(len(self.urls)):
            url = self.urls[(start + offset) % len(self.urls)] + path
            try:
                response = requests.get(url, timeout=5)
            except (requests.ConnectionError, requests.Timeout) as error:
                unanswered.append(f"{url}: {error.__class__.__name__}")
                self.retried += 1
                continue
            if response.status_code in self.GATEWAY_ERRORS and url[: -len(path)] in self.unsteady:
                unanswered.append(f"{url}: {response.status_code}")
                self.retried += 1
                continue
            if response.status_code >= 400:
                self.failures.append((time.strftime("%H:%M:%S"), url, response.status_code, response.text[:200]))
            else:
                self.answered += 1
                self.stores[response.headers.get("X-Store")] += 1
            return
        self.failures.append((time.strftime("%H:%M:%S"), path, None, "; ".join(unanswered)))

    def _run(self):
        for turn in itertools.count():
            if self._stop.is_set():
                return
            self._get(self.paths[turn % len(self.paths)], turn)
            time.sleep(self.pause)
