#!/usr/bin/env python3
"""Time the project on labs of its own, beside a plain shell script doing the same work.

    make bench [RUNS=3] [SKIP=baseline,six,load,update,leave] [COMPARE=<git ref>]

Prints a table (the median of RUNS runs for what is measured more than once)
and writes it, with the machine it ran on, to artifacts/benchmark.json.
docs/benchmarks.md holds the latest figures. It measures and asserts nothing:
the tests check behaviour.

With COMPARE, it times site.yml only (cold converge and no-op re-run, on 3
nodes and on 6), of that git ref beside this checkout as it is, run by run,
and writes the two side by side to artifacts/benchmark-compare.json.

Labs are made with the project's own lab role on this machine's engine, as
`make lab` does, but apart from the lab `make lab` made: containers
bench-node1.., network swarm-bench. Every one starts fresh (Docker not
installed), is provisioned, measured, then removed.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "molecule" / "resources" / "tests"))
from recap import changed  # noqa: E402
from request_loop import RequestLoop  # noqa: E402

NETWORK = "swarm-bench"
PREFIX = "bench-"
STACK = "gallery"
STACK_DIR = "/etc/gallery"  # gallery_stack_dir's default
STATIC_PORT = 8090
ENV = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
       "PATH": f"{PROJECT / '.venv' / 'bin'}:{os.environ['PATH']}"}
ARTIFACTS = PROJECT / "artifacts"
PARTS = ("baseline", "six", "load", "update", "leave")
ROUND_TRIPS = 20  # tasks of the playbook that times one module task
# The timings' names in both tables.
TIMINGS = {"cold3": "cold converge, 3 nodes: site.yml", "baseline3": "cold converge, 3 nodes: baseline.sh",
           "cold6": "cold converge, 6 nodes: site.yml", "noop3": "no-op re-run, 3 nodes",
           "noop6": "no-op re-run, 6 nodes", "task3": "one module task, 3 nodes", "task6": "one module task, 6 nodes"}
COMPARED = ("cold3", "cold6", "noop3", "noop6")  # what --compare times, of site.yml
CHECKOUT = "HEAD"  # this checkout's name beside the ref compared (its uncommitted changes included)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(*command, env=ENV, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
                            check=False, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                 f"{(result.stdout + result.stderr)[-4000:]}")
    return result.stdout


def wait_for(check, what, timeout=600, every=0.5):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"not within {timeout}s: {what}")
        time.sleep(every)


def answers(url):
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


class Lab:
    """A lab of MANAGERS + WORKERS fresh nodes with an inventory of its own, for the playbooks of PROJECT (this
    checkout, or the tree of the ref compared); LABEL, when given, names that project in the lab's files."""

    def __init__(self, managers, workers, workdir, project=PROJECT, label=None):
        hosts = [f"node{n}" for n in range(1, managers + workers + 1)]
        self.managers, self.workers = hosts[:managers], hosts[managers:]
        self.hosts = hosts
        self.project, self.suffix = project, f"-{label}" if label else ""
        self.inventory = workdir / f"lab-{managers}-{workers}{self.suffix}"
        (self.inventory / "group_vars").mkdir(parents=True, exist_ok=True)
        storage = (self.workers or self.managers)[0]
        self.storage = storage

        def group(names):
            return {"hosts": {name: {"ansible_host": PREFIX + name,
                                     **({"docker_swarm_node_labels": {"storage": "true"}} if name == storage else {})}
                              for name in names}}

        children = {"managers": group(self.managers), **({"workers": group(self.workers)} if self.workers else {})}
        inventory = {"all": {"vars": {"swarm_lab_flavour": "vm", "swarm_lab_network": NETWORK},
                             "children": {"swarm": {"children": children}}}}
        (self.inventory / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
        shutil.copy(project / "inventories" / "lab" / "group_vars" / "swarm.yml", self.inventory / "group_vars")
        self.shape = f"{len(hosts)} nodes ({managers} manager{'s' if managers > 1 else ''} + {len(self.workers)} workers)"

    def playbook(self, name, *args, env=None, project=None):
        """Run a playbook of a project (the lab's unless given) on this lab, from that project's directory, so
        with its ansible.cfg and its roles; its duration in seconds and its output."""
        project = project or self.project
        started = time.monotonic()
        output = run("ansible-playbook", "-i", str(self.inventory), str(project / name), *args, cwd=project,
                     env={**ENV, **(env or {})})
        return time.monotonic() - started, output

    # The nodes come from this checkout's lab role whatever project the lab is for: the same nodes for both
    # sides of a comparison.
    def up(self):
        log(f"creating {self.shape}")
        self.playbook("playbooks/lab-nodes.yml", project=PROJECT)
        self.urls = [f"http://{self.address(host)}" for host in self.hosts]

    def down(self):
        self.playbook("playbooks/lab-nodes.yml", "-e", "swarm_lab_state=absent", project=PROJECT)

    def address(self, host):
        return run("docker", "inspect", "--format",
                   f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}', PREFIX + host).strip()

    def on(self, host, *command):
        return run("docker", "exec", PREFIX + host, *command)

    def serving(self):
        return all(answers(url + "/") for url in self.urls)


def site(lab, kind):
    """Run site.yml; the run's output, with every task's time, goes to artifacts/benchmark-KIND-N-nodes.log
    (-LABEL.log for a lab with a label)."""
    seconds, output = lab.playbook("site.yml", env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                                                    "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"})
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"benchmark-{kind}-{len(lab.hosts)}-nodes{lab.suffix}.log").write_text(output)
    return seconds, output


def converge(lab, kind="cold"):
    """site.yml until the gallery answers on every node."""
    seconds, _ = site(lab, kind)
    started = time.monotonic()
    wait_for(lab.serving, "the gallery answering on every node")
    seconds += time.monotonic() - started
    log(f"  {seconds:.1f} s")
    return seconds


def baseline(lab, stack_dir):
    """Fresh nodes to the gallery answering on every node, with bench/baseline.sh."""
    compose = yaml.safe_load((stack_dir / "docker-stack.yml").read_text())
    env = {"IMAGES": " ".join(sorted({s["image"] for s in compose["services"].values()})),
           "SECRETS": " ".join(s["name"] for s in compose.get("secrets", {}).values() if s.get("external")),
           "STORAGE": lab.storage}
    started = time.monotonic()
    run("bash", str(PROJECT / "bench" / "baseline.sh"), str(stack_dir), *(PREFIX + h for h in lab.hosts),
        env={**ENV, **env})
    wait_for(lab.serving, "the gallery answering on every node (baseline)")
    seconds = time.monotonic() - started
    log(f"  {seconds:.1f} s")
    return seconds


def no_op(lab, results):
    """A re-run of site.yml with nothing to change; what it changed all the same goes to results["noop_changes"]."""
    seconds, output = site(lab, "noop")
    log(f"  {seconds:.1f} s")
    changes = {host: count for host, count in changed(output).items() if count}
    if changes:
        results.setdefault("noop_changes", []).append(changes)
    return seconds


def wrk(url):
    """Requests per second, p50 and p99 latency (ms), and errors of 20 s of load on one URL."""
    output = run("wrk", "--threads", "2", "--connections", "32", "--duration", "20s", "--timeout", "5s",
                 "--latency", url)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {p: float(m[1]) * units[m[2]]
               for p in ("50", "99") for m in [re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)$", output, re.M)]}
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", output))
    return {"rps": rate, "p50_ms": latency["50"], "p99_ms": latency["99"], "errors": errors}


def load(lab, nginx_image):
    """The gallery's page through Nginx, and a static file from the same Nginx image, the ceiling."""
    manager = lab.managers[0]
    gallery = wrk(lab.urls[0] + "/")
    lab.on(manager, "docker", "service", "create", "--quiet", "--detach", "--name", "bench-static",
           "--mode", "global", "--endpoint-mode", "dnsrr",
           "--publish", f"mode=host,target=80,published={STATIC_PORT}", nginx_image)
    try:
        static_url = f"{lab.urls[0]}:{STATIC_PORT}/"
        wait_for(lambda: answers(static_url), "the static Nginx answering", timeout=120)
        static = wrk(static_url)
    finally:
        lab.on(manager, "docker", "service", "rm", "bench-static")
    return gallery, static


def rolling_update(lab, workdir):
    """deploy.yml rolling out another release of the gallery, under a stream of requests."""
    release = workdir / "app-release"
    if not release.exists():
        shutil.copytree(PROJECT / "app", release, ignore=shutil.ignore_patterns("node_modules"))
        (release / "RELEASE").write_text("benchmark\n")  # another build context: another image
    with RequestLoop("rolling update", lab.urls, ["/", "/api/images"]) as loop:
        seconds, _ = lab.playbook("deploy.yml", "-e", f"gallery_app_context={release}")
    return seconds, loop


def gallery_tasks(lab):
    """Nodes of the gallery service's running tasks."""
    lines = lab.on(lab.managers[0], "docker", "service", "ps", f"{STACK}_gallery", "--filter", "desired-state=running",
                   "--format", "{{.Node}} {{.CurrentState}}").split("\n")
    return [line.split()[0] for line in lines if line.split()[1:2] == ["Running"]]


def worker_leaves(lab):
    """A worker running a gallery task (not Redis's) leaves: seconds until the managers list it
    Down, and until the gallery runs all its replicas on the nodes left."""
    manager = lab.managers[0]
    before = gallery_tasks(lab)
    wanted = len(before)
    worker = next((w for w in reversed(lab.workers) if w != lab.storage and w in before), lab.workers[-1])
    started = time.monotonic()
    lab.on(worker, "docker", "swarm", "leave")

    def down():
        listed = lab.on(manager, "docker", "node", "ls", "--format", "{{.Hostname}} {{.Status}}").split("\n")
        return f"{worker} Down" in listed

    wait_for(down, f"{worker} listed Down")
    marked = time.monotonic() - started

    def full():
        tasks = gallery_tasks(lab)
        return worker not in tasks and len(tasks) == wanted

    wait_for(full, "the gallery at full replicas")
    return marked, time.monotonic() - started


def figures(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def no_ops(lab, runs, results):
    times = []
    for n in range(runs):
        log(f"no-op re-run {n + 1}/{runs}, {lab.shape}")
        times.append(no_op(lab, results))
    return figures(times)


def round_trip(lab, workdir, runs):
    """Seconds that one task of a docker module adds to a run on every node: the floor under each task."""
    def playbook(tasks):
        path = workdir / f"round-trips-{tasks}.yml"
        path.write_text(yaml.safe_dump([{
            "name": "Ask every node's engine", "hosts": "swarm", "gather_facts": False,
            "tasks": [{"name": f"Ask the engine ({n})", "community.docker.docker_host_info": {}} for n in range(tasks)],
        }]))
        return lab.playbook(str(path))[0]

    log(f"one module task, {lab.shape} ({ROUND_TRIPS} tasks, {runs} runs)")
    return figures([(playbook(ROUND_TRIPS + 1) - playbook(1)) / ROUND_TRIPS for _ in range(runs)])


def measure(runs, skip, workdir, results):
    stack_dir = workdir / "stack"
    cold, shell = [], []
    for turn in range(runs):
        lab = Lab(1, 2, workdir)
        lab.up()
        log(f"cold converge {turn + 1}/{runs} (site.yml)")
        cold.append(converge(lab))
        if turn == 0:
            # The baseline deploys the very stack site.yml rendered.
            run("docker", "cp", f"{PREFIX}{lab.managers[0]}:{STACK_DIR}/.", str(stack_dir))
            results["noop3"] = no_ops(lab, runs, results)
            results["task3"] = round_trip(lab, workdir, runs)
            if "load" not in skip:
                log("load: the gallery, then a static file (wrk, 20 s each)")
                nginx_image = yaml.safe_load((stack_dir / "docker-stack.yml").read_text())["services"]["nginx"]["image"]
                results["load_gallery"], results["load_static"] = load(lab, nginx_image)
                log(f"  {results['load_gallery']} / {results['load_static']}")
            # Before the update: site.yml rejoining the worker would roll that update back.
            if "leave" not in skip:
                log("a worker leaves")
                marked, full = worker_leaves(lab)
                log(f"  Down after {marked:.1f} s, gallery full after {full:.1f} s; site.yml rejoins it")
                results["leave"] = {"down_seconds": marked, "full_seconds": full, "rejoin_seconds": converge(lab, "rejoin")}
            if "update" not in skip:
                log("rolling update under load (deploy.yml)")
                seconds, loop = rolling_update(lab, workdir)
                results["update"] = {"seconds": seconds, "answered": loop.answered, "failed": len(loop.failures),
                                     "failures": [str(f) for f in loop.failures[:5]]}
                log(f"  {results['update']}")
        lab.down()
        if "baseline" not in skip:
            lab = Lab(1, 2, workdir)
            lab.up()
            log(f"cold converge {turn + 1}/{runs} (baseline.sh)")
            shell.append(baseline(lab, stack_dir))
            lab.down()
    results["cold3"] = figures(cold)
    if shell:
        results["baseline3"] = figures(shell)
    if "six" not in skip:
        lab = Lab(3, 3, workdir)
        lab.up()
        log("cold converge, 6 nodes (site.yml)")
        results["cold6"] = figures([converge(lab)])
        results["noop6"] = no_ops(lab, runs, results)
        results["task6"] = round_trip(lab, workdir, runs)
        lab.down()


def export(ref, workdir):
    """The tree of a git ref, in WORKDIR (git archive: the repository and its worktrees are left as they are); the
    ref's commit, its short name, and the tree's directory."""
    commit = run("git", "-C", str(PROJECT), "rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    label = run("git", "-C", str(PROJECT), "rev-parse", "--short", commit).strip()
    tree, archive = workdir / label, workdir / f"{label}.tar"
    run("git", "-C", str(PROJECT), "archive", f"--output={archive}", commit)
    tree.mkdir()
    run("tar", "-xf", str(archive), "-C", str(tree))
    return commit, label, tree


def compare(ref, runs, skip, workdir):
    """site.yml of REF beside this checkout's: each run, one fresh lab for each, cold converge then one no-op
    re-run; the two go one after the other, in the other order the next run, so that the machine's drift (a slower
    hour, other load) falls on both alike. REF's runs use REF's playbooks, roles and ansible.cfg; both use this
    checkout's .venv and collections."""
    commit, label, tree = export(ref, workdir)
    sides = [(label, tree), (CHECKOUT, PROJECT)]
    found = {name: {} for name, _ in sides}  # per side: each measure's seconds run by run, and noop_changes
    for managers, workers in [(1, 2)] + ([(3, 3)] if "six" not in skip else []):
        for turn in range(runs):
            for name, project in sides if turn % 2 == 0 else sides[::-1]:
                lab = Lab(managers, workers, workdir, project, name)
                lab.up()
                log(f"{name}: cold converge {turn + 1}/{runs}, then a no-op re-run, {lab.shape}")
                found[name].setdefault(f"cold{len(lab.hosts)}", []).append(converge(lab))
                found[name].setdefault(f"noop{len(lab.hosts)}", []).append(no_op(lab, found[name]))
                lab.down()

    before, after = found[label], found[CHECKOUT]
    results = {"ref": ref, "ref_commit": commit, "label": label,
               "head_commit": run("git", "-C", str(PROJECT), "rev-parse", "HEAD").strip(),
               "head_modified": bool(run("git", "-C", str(PROJECT), "status", "--porcelain").strip())}
    for key in COMPARED:
        if key in after:
            results[key] = {"ref": figures(before[key]), "head": figures(after[key]),
                            "ratio": statistics.median(after[key]) / statistics.median(before[key]),
                            "pairs": [a / b for b, a in zip(before[key], after[key])]}
    results["noop_changes"] = {name: found[name]["noop_changes"] for name, _ in sides if "noop_changes" in found[name]}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each repeated measure (default 3)")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {','.join(PARTS)}")
    parser.add_argument("--compare", metavar="REF",
                        help="time site.yml of this git ref beside this checkout's, run by run (cold converge and "
                             "no-op re-run on 3 nodes, and on 6 unless six is skipped), instead of everything else")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if skip - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(skip - set(PARTS))}; known: {', '.join(PARTS)}")
    if "load" not in skip and not args.compare and not shutil.which("wrk"):
        parser.error("wrk is needed for the load figures (apt-get install wrk), or pass --skip load")

    results = {}
    workdir = Path(tempfile.mkdtemp(prefix="swarm-bench-"))
    try:
        Lab(1, 2, workdir).down()  # the lab of an interrupted run: every lab must start fresh
        if args.compare:
            results = compare(args.compare, args.runs, skip, workdir)
        else:
            measure(args.runs, skip, workdir, results)
    finally:
        Lab(1, 2, workdir).down()
        shutil.rmtree(workdir)  # the ref's tree too

    results["machine"] = {
        "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
        "docker": run("docker", "version", "--format", "{{.Server.Version}}").strip(),
        "ansible": run("ansible", "--version").split("\n")[0],
    }
    out = ARTIFACTS / ("benchmark-compare.json" if args.compare else "benchmark.json")
    ARTIFACTS.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print((compare_table if args.compare else table)(results))
    print(f"\n(written to {out.relative_to(PROJECT)})")


def columns(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def compare_table(r):
    rows = [("measure", f"{r['ref']} ({r['label']})", CHECKOUT, f"{CHECKOUT} / {r['ref']}", "run by run")]
    for key in COMPARED:
        if key in r:
            f = r[key]
            rows.append((TIMINGS[key], f"{f['ref']['median']:.1f} s", f"{f['head']['median']:.1f} s",
                         f"{f['ratio']:.2f}", ", ".join(f"{p:.2f}" for p in f["pairs"])))
    for name, changes in r["noop_changes"].items():
        rows.append((f"no-op re-runs that changed something, {name}", str(len(changes)), str(changes[:2]), "", ""))
    return columns(rows)


def table(r):
    rows = [("measure", "median", "min .. max", "runs")]

    def timing(key):
        if key in r:
            f = r[key]
            digits = 2 if f["max"] < 10 else 1
            rows.append((TIMINGS[key], f"{f['median']:.{digits}f} s",
                         f"{f['min']:.{digits}f} .. {f['max']:.{digits}f} s", str(f["runs"])))

    timing("cold3")
    timing("baseline3")
    if "baseline3" in r:
        rows.append(("  ratio site.yml / baseline.sh", f"{r['cold3']['median'] / r['baseline3']['median']:.2f}", "", ""))
    timing("cold6")
    timing("noop3")
    timing("noop6")
    if "noop6" in r:
        rows.append(("  growth 3 -> 6 nodes", f"{r['noop6']['median'] / r['noop3']['median']:.2f}x", "", ""))
    timing("task3")
    timing("task6")
    for key, label in (("load_gallery", "gallery page via Nginx"), ("load_static", "static file from Nginx")):
        if key in r:
            f = r[key]
            rows.append((f"{label}: req/s", f"{f['rps']:.0f}", f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms",
                         f"{f['errors']} err"))
    if "update" in r:
        u = r["update"]
        rows.append(("rolling update: failed requests", str(u["failed"]), f"of {u['answered'] + u['failed']}",
                     f"{u['seconds']:.0f} s"))
    if "leave" in r:
        lv = r["leave"]
        rows.append(("worker leaves: listed Down after", f"{lv['down_seconds']:.1f} s", "", ""))
        rows.append(("worker leaves: full replicas after", f"{lv['full_seconds']:.1f} s", "", ""))
        rows.append(("worker leaves: site.yml rejoins it in", f"{lv['rejoin_seconds']:.1f} s", "", ""))
    if "noop_changes" in r:
        rows.append(("no-op re-runs that changed something", str(len(r["noop_changes"])), str(r["noop_changes"][:2]), ""))
    return columns(rows)


if __name__ == "__main__":
    main()
