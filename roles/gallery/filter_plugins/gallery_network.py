"""Choose how the gallery stack is networked: routing mesh or DNS round-robin."""

from ansible.errors import AnsibleFilterError

MODES = ("mesh", "dnsrr")


def gallery_network_mode(setting, ipvs_by_host):
    """Return 'mesh' or 'dnsrr' for the setting `auto`, `mesh` or `dnsrr`.

    `ipvs_by_host` maps each node to whether its kernel offers IPVS, which
    the VIP load balancing and the ingress routing mesh are built on. A
    single node without it breaks the mesh for every client that lands on it,
    so `auto` needs every node to have it.
    """
    if setting not in (*MODES, "auto"):
        raise AnsibleFilterError(f"gallery_network_mode is '{setting}'; use one of auto, mesh, dnsrr.")
    if not ipvs_by_host:
        raise AnsibleFilterError("gallery_network_mode: no node reported whether it has IPVS.")
    missing = sorted(host for host, has_ipvs in ipvs_by_host.items() if not has_ipvs)
    if setting == "auto":
        return "dnsrr" if missing else "mesh"
    if setting == "mesh" and missing:
        raise AnsibleFilterError(
            f"gallery_network_mode is 'mesh', but these nodes have no IPVS in their kernel: {', '.join(missing)}. "
            "Their routing mesh would accept connections and answer nothing. Load ip_vs there, "
            "or use gallery_network_mode: dnsrr (or auto)."
        )
    return setting


class FilterModule:
    def filters(self):
        return {"gallery_network_mode": gallery_network_mode}
