import pytest
from ansible.errors import AnsibleFilterError

from swarm_quorum import swarm_quorum_check, tolerance

THREE = ["m1", "m2", "m3"]
FOUR = THREE + ["m4"]


@pytest.mark.parametrize("managers,expected", [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2), (7, 3)])
def test_tolerance_is_floor_of_n_minus_one_over_two(managers, expected):
    assert tolerance(managers) == expected


def test_nothing_leaving_is_fine():
    assert swarm_quorum_check(THREE, THREE, []) == THREE


def test_four_to_three_keeps_tolerance():
    assert swarm_quorum_check(FOUR, FOUR, ["m4"]) == THREE


def test_three_to_two_is_refused_with_the_arithmetic():
    with pytest.raises(AnsibleFilterError) as error:
        swarm_quorum_check(THREE, THREE, ["m3"])
    message = str(error.value)
    assert "3 managers tolerate 1 failure, 2 managers tolerate 0 failures" in message
    assert "Add a manager first" in message


def test_removing_the_last_manager_is_refused():
    with pytest.raises(AnsibleFilterError, match="without a manager"):
        swarm_quorum_check(["m1"], ["m1"], ["m1"])


def test_two_to_one_keeps_tolerance_zero():
    assert swarm_quorum_check(["m1", "m2"], ["m1", "m2"], ["m2"]) == ["m1"]


def test_losing_the_majority_of_reachable_managers_is_refused():
    # m3 is down: removing m2 leaves m1 and m3, only m1 answering.
    with pytest.raises(AnsibleFilterError, match=r"need 2 reachable for a majority, and only 1 would be \(m1\)"):
        swarm_quorum_check(FOUR, ["m1", "m2", "m4"], ["m2", "m4"])


def test_removing_a_down_manager_is_allowed_when_the_rest_hold_the_majority():
    assert swarm_quorum_check(FOUR, ["m1", "m2", "m3"], ["m4"]) == THREE


def test_an_even_result_is_a_warning(capsys):
    assert swarm_quorum_check(FOUR, FOUR, []) == FOUR
    assert "even number of managers (4)" in capsys.readouterr().err


def test_a_promotion_to_an_even_number_is_a_warning(capsys):
    # Six, not four: Ansible shows an identical warning only once per process.
    assert swarm_quorum_check(FOUR, FOUR, [], ["w1", "w2"]) == FOUR + ["w1", "w2"]
    assert "even number of managers (6)" in capsys.readouterr().err
