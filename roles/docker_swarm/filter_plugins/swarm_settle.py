"""Whether a swarm's services run everything they should, from the API's own objects."""

# The scheduler's verdict on a task that no node satisfies (placement
# constraints, resources, a drained node holding the only volume): waiting
# will not help until an operator changes something.
UNPLACEABLE = "no suitable node"

# A rolling update (or its rollback) still under way: the counts can look
# complete while tasks of the old version are yet to be replaced.
UPDATING = ("updating", "rollback_started")


def _replicas(service):
    mode = service["Spec"]["Mode"]
    return mode["Replicated"]["Replicas"] if "Replicated" in mode else None


def swarm_unsettled(services, tasks):
    """Services that do not yet run all their tasks.

    services: service objects (docker_swarm_info, verbose_output);
    tasks:    their tasks whose desired state is running (same source).
    Returns {"waiting": [...], "unplaceable": {...}}. A service is waiting
    while one of its tasks is not running yet, or while it runs fewer tasks
    than its replica count (the orchestrator has not created the
    replacements yet), or while a rolling update or its rollback is under
    way ("name updating"). It is unplaceable instead when every task it lacks is
    one the scheduler found no node for; that entry maps its name to the
    scheduler's message.
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


def swarm_placement(services, tasks, nodes):
    """Where each service's running tasks are: {service name: sorted node hostnames}.

    services, tasks and nodes as docker_swarm_info (verbose) and
    docker_node_info return them; a node appears once per task on it.
    """
    names = {s["ID"]: s["Spec"]["Name"] for s in services}
    hosts = {n["ID"]: n["Description"]["Hostname"] for n in nodes}
    placement = {name: [] for name in names.values()}
    for task in tasks:
        if task.get("DesiredState") == "running" and task["Status"]["State"] == "running" and task["ServiceID"] in names:
            placement[names[task["ServiceID"]]].append(hosts.get(task.get("NodeID"), task.get("NodeID")))
    return {name: sorted(where) for name, where in sorted(placement.items())}


class FilterModule:
    def filters(self):
        return {"swarm_unsettled": swarm_unsettled, "swarm_placement": swarm_placement}
