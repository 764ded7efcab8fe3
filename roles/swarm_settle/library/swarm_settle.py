"""Wait, on a manager, until the swarm's services run everything they should."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_settle
short_description: Wait until every service (or one stack's) runs all its tasks, healthy
description:
  - Reads the services and their tasks through the Docker API every O(interval) seconds, inside one module run, until
    none is waiting or O(timeout) seconds have passed. A loop of C(community.docker.docker_swarm_info) with C(until)
    costs a module start per look, so it can only look every few seconds; this looks often and ends soon after the
    swarm settles.
  - A service is waiting while one of its tasks is not running yet (a task with a health check runs once healthy),
    while it runs fewer tasks than its replica count, or while a rolling update or its rollback is under way. It is
    unplaceable instead when every task it lacks is one the scheduler found no node for; waiting will not help.
  - When a service was created or updated less than two seconds before, the swarm counts as settled only once two
    looks in a row find nothing waiting; the orchestrator may not have created the tasks of a global service yet, and
    the update of a service may not have started. With O(specs_changed=false) one look is enough, as C(docker stack
    deploy) updates every service of the stack, changed or not, so the time of that update says nothing.
  - Never fails because of what it finds; RV(waiting) and RV(unplaceable) say what did not settle in time.
  - Reads the engine through the Docker SDK for Python.
options:
  stack:
    description: Only the services of this stack (label C(com.docker.stack.namespace)); all services when empty.
    type: str
    default: ""
  timeout:
    description: Seconds to wait at most, and the longest one request to the Docker API may take.
    type: int
    default: 300
  interval:
    description: Seconds between two looks.
    type: float
    default: 0.5
  specs_changed:
    description:
      - Whether the caller may just have changed a service (C(docker_stack) reports whether a spec changed). When
        false, the first look that finds nothing waiting ends the wait.
    type: bool
    default: true
  docker_host:
    description: The Docker API's Unix socket or URL, on the manager. E(DOCKER_HOST) when not given.
    type: str
    default: unix:///var/run/docker.sock
requirements:
  - The Docker SDK for Python (C(docker); the python3-docker package) on the manager.
"""

RETURN = r"""
waiting:
  description: The services still waiting, as C(name running/expected) or C(name <update state>).
  type: list
  returned: always
unplaceable:
  description: The services no node can run now, each with the scheduler's message.
  type: dict
  returned: always
services:
  description: >-
    Each service as the last look found it: C(name), C(image), C(replicas) (null for a global service), and the
    C(update_state) and C(update_message) of its last rolling update (null when it had none).
  type: list
  returned: always
"""

import calendar
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.swarm_docker_api import API_ERRORS, CONNECTION_OPTIONS, connect

# The scheduler's verdict on a task that no node satisfies (placement
# constraints, resources, a drained node holding the only volume): waiting
# will not help until an operator changes something.
UNPLACEABLE = "no suitable node"

# A rolling update (or its rollback) still under way: the counts can look
# complete while tasks of the old version are yet to be replaced.
UPDATING = ("updating", "rollback_started")

# How long after a service changed a look finding it settled is checked by a
# second one: the orchestrator acts within milliseconds.
RECENT = 2.0


def _replicas(service):
    mode = service["Spec"]["Mode"]
    return mode["Replicated"]["Replicas"] if "Replicated" in mode else None


def unsettled(services, tasks):
    """Services that do not yet run all their tasks.

    services: service objects as the API returns them;
    tasks:    their tasks whose desired state is running (same source).
    Returns {"waiting": [...], "unplaceable": {...}}, as RETURN describes.
    """
    by_service = {}
    for task in tasks:
        by_service.setdefault(task["ServiceID"], []).append(task)
    waiting, unplaceable = [], {}
    for service in sorted(services, key=lambda s: s["Spec"]["Name"]):
        name = service["Spec"]["Name"]
        own = [t for t in by_service.get(service["ID"], []) if t.get("DesiredState") == "running"]
        running = [t for t in own if t["Status"]["State"] == "running"]
        stuck = [t for t in own if t["Status"]["State"] != "running"]
        wanted = _replicas(service)
        # Tasks the orchestrator has yet to create for a replicated service.
        missing = max(wanted - len(own), 0) if wanted is not None else 0
        if (service.get("UpdateStatus") or {}).get("State") in UPDATING:
            waiting.append(f"{name} {service['UpdateStatus']['State']}")
            continue
        if not stuck and not missing:
            continue
        errors = [t["Status"].get("Err", "") for t in stuck]
        if not missing and all(UNPLACEABLE in err for err in errors):
            unplaceable[name] = errors[0]
        else:
            waiting.append(f"{name} {len(running)}/{len(own) + missing}")
    return {"waiting": waiting, "unplaceable": unplaceable}


def summary(service):
    """What a caller reports of a service (the whole object may carry settings it should not print)."""
    update = service.get("UpdateStatus") or {}
    return {
        "name": service["Spec"]["Name"],
        "image": service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        "replicas": _replicas(service),
        "update_state": update.get("State"),
        "update_message": update.get("Message"),
    }


def _epoch(timestamp):
    """Seconds since the epoch of an API timestamp (2026-11-23T03:41:44.123456789Z); Python before 3.11
    reads neither the Z nor nine digits of fractions."""
    whole, _, fraction = timestamp.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return seconds + float(f"0.{fraction or 0}")


def changed_lately(services, now):
    """Whether a service was created or updated less than RECENT seconds before now (the epoch)."""
    return any(now - _epoch(s.get("UpdatedAt") or s["CreatedAt"]) < RECENT for s in services)


def settle(look, timeout, interval, specs_changed=True, clock=time.monotonic, sleep=time.sleep, now=time.time):
    """Call look() (-> services, tasks) until nothing is waiting, or timeout seconds.

    Right after a service changed (when specs_changed), nothing must be waiting on two looks in a row.
    Returns the last look's services and its unsettled() verdict.
    """
    deadline = clock() + timeout
    settled_before = False
    while True:
        services, tasks = look()
        verdict = unsettled(services, tasks)
        settled = not verdict["waiting"]
        if (settled and (settled_before or not specs_changed or not changed_lately(services, now()))) \
                or clock() >= deadline:
            return services, verdict
        settled_before = settled
        sleep(max(min(interval, deadline - clock()), 0))


def main():
    module = AnsibleModule(
        argument_spec={
            **CONNECTION_OPTIONS,
            "stack": {"type": "str", "default": ""},
            "timeout": {"type": "int", "default": 300},
            "interval": {"type": "float", "default": 0.5},
            "specs_changed": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    client = connect(module, params["timeout"])
    service_filters = {"label": f"com.docker.stack.namespace={params['stack']}"} if params["stack"] else None

    def look():
        services = client.services(filters=service_filters)
        ids = {service["ID"] for service in services}
        tasks = client.tasks(filters={"desired-state": "running"})
        return services, [task for task in tasks if task["ServiceID"] in ids]

    try:
        services, verdict = settle(look, params["timeout"], params["interval"], params["specs_changed"])
    except API_ERRORS as exc:
        # A worker says so here: "This node is not a swarm manager."
        module.fail_json(msg=f"Reading the services and their tasks failed: {exc}")
    module.exit_json(changed=False, services=[summary(s) for s in services], **verdict)


if __name__ == "__main__":
    main()
