"""Where a swarm's services run their tasks, from the API's own objects."""


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
        return {"swarm_placement": swarm_placement}
