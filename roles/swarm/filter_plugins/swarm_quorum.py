"""The quorum guard: refuse manager changes that would cost the swarm its majority."""

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

display = Display()


def tolerance(managers):
    """Failures a Raft group of `managers` survives: floor((N-1)/2)."""
    return max(managers - 1, 0) // 2


def arithmetic(managers):
    return f"{managers} manager{'s' if managers != 1 else ''} tolerate{'s' if managers == 1 else ''} {tolerance(managers)} failure{'s' if tolerance(managers) != 1 else ''}"


def swarm_quorum_check(managers, reachable, leaving, joining=()):
    """Check that `leaving` (demoted or removed) may go, and return `managers` afterwards.

    managers:  names of the swarm's managers now;
    reachable: those of them that currently answer;
    leaving:   managers about to be demoted or removed;
    joining:   nodes about to be promoted (they count for the even-number warning).
    Refuses (AnsibleFilterError, before anything changes) when no manager
    would be left, when the remaining managers would not have a reachable
    majority, or when the change lands on an even count that tolerates fewer
    failures than now (add a manager first, then remove). Warns when the
    result is an even count.
    """
    now = list(dict.fromkeys(managers))
    after = [m for m in now if m not in set(leaving)]
    up_after = [m for m in after if m in set(reachable)]
    change = f"Going from {len(now)} to {len(after)} managers ({', '.join(leaving) or 'none'} leaving)"
    if leaving and not after:
        raise AnsibleFilterError(f"{change} would leave the swarm without a manager. Refused; nothing was changed.")
    majority = len(after) // 2 + 1
    if leaving and len(up_after) < majority:
        raise AnsibleFilterError(
            f"{change}: {len(after)} managers need {majority} reachable for a majority, and only "
            f"{len(up_after)} would be ({', '.join(up_after) or 'none'}). The swarm would lose its quorum. "
            "Refused; nothing was changed. Bring the unreachable managers back first."
        )
    if leaving and len(after) % 2 == 0 and tolerance(len(after)) < tolerance(len(now)):
        raise AnsibleFilterError(
            f"{change} lowers fault tolerance: {arithmetic(len(now))}, {arithmetic(len(after))}. "
            "Refused; nothing was changed. Add a manager first (put a host in `managers` and run site.yml), "
            "then remove this one."
        )
    after += [m for m in joining if m not in after]
    if after and len(after) % 2 == 0:
        display.warning(
            f"The swarm has an even number of managers ({len(after)}): {arithmetic(len(after))}, "
            f"no more than {len(after) - 1} would. Use an odd number."
        )
    return after


class FilterModule:
    def filters(self):
        return {"swarm_quorum_check": swarm_quorum_check}
