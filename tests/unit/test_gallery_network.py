import pytest
from ansible.errors import AnsibleFilterError

from gallery_network import gallery_network_mode

ALL_IPVS = {"node1": True, "node2": True, "node3": True}
NONE_IPVS = {"node1": False, "node2": False, "node3": False}
ONE_MISSING = {"node1": True, "node2": False, "node3": True}


def test_auto_uses_the_mesh_when_every_node_has_ipvs():
    assert gallery_network_mode("auto", ALL_IPVS) == "mesh"


def test_auto_falls_back_to_dnsrr_without_ipvs():
    assert gallery_network_mode("auto", NONE_IPVS) == "dnsrr"


def test_auto_falls_back_to_dnsrr_when_a_single_node_lacks_ipvs():
    assert gallery_network_mode("auto", ONE_MISSING) == "dnsrr"


def test_explicit_dnsrr_is_kept_even_with_ipvs():
    assert gallery_network_mode("dnsrr", ALL_IPVS) == "dnsrr"


def test_explicit_mesh_with_ipvs_everywhere():
    assert gallery_network_mode("mesh", ALL_IPVS) == "mesh"


def test_explicit_mesh_on_nodes_without_ipvs_names_them():
    with pytest.raises(AnsibleFilterError, match="no IPVS in their kernel: node2") as error:
        gallery_network_mode("mesh", ONE_MISSING)
    assert "dnsrr" in str(error.value)


def test_unknown_setting_is_refused():
    with pytest.raises(AnsibleFilterError, match="'routing'; use one of auto, mesh, dnsrr"):
        gallery_network_mode("routing", ALL_IPVS)


def test_no_node_reported_is_refused():
    with pytest.raises(AnsibleFilterError, match="no node reported"):
        gallery_network_mode("auto", {})
