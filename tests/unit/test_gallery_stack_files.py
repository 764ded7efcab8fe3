"""gallery_stack_files, run by Ansible on this machine, writing into a temporary directory."""

import stat

import pytest


@pytest.fixture
def write(run_module, tmp_path):
    directory = tmp_path / "etc" / "gallery"

    def run(files, **args):
        return run_module("gallery", "gallery_stack_files", path=str(directory), files=files,
                          directory_mode="0750", mode="0640", **args)
    run.directory = directory
    return run


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_first_run_creates_the_directory_and_the_files_with_their_modes(write):
    result = write({"docker-stack.yml": "services: {}\n", "nginx.conf": "events {}\n"})
    assert result["changed"] is True
    assert result["written"] == ["docker-stack.yml", "nginx.conf"]
    assert (write.directory / "docker-stack.yml").read_text() == "services: {}\n"
    assert (write.directory / "nginx.conf").read_text() == "events {}\n"
    assert mode(write.directory) == 0o750
    assert mode(write.directory / "nginx.conf") == 0o640


def test_a_second_run_with_the_same_content_changes_nothing(write):
    files = {"nginx.conf": "events {}\n"}
    write(files)
    result = write(files)
    assert result["changed"] is False
    assert result["written"] == []


def test_only_the_file_whose_content_differs_is_written(write):
    write({"docker-stack.yml": "services: {}\n", "nginx.conf": "events {}\n"})
    before = (write.directory / "docker-stack.yml").stat().st_ino
    result = write({"docker-stack.yml": "services: {}\n", "nginx.conf": "worker_processes 2;\n"})
    assert result["written"] == ["nginx.conf"]
    assert (write.directory / "nginx.conf").read_text() == "worker_processes 2;\n"
    assert (write.directory / "docker-stack.yml").stat().st_ino == before


def test_a_mode_changed_by_hand_is_set_back(write):
    files = {"nginx.conf": "events {}\n"}
    write(files)
    (write.directory / "nginx.conf").chmod(0o644)
    result = write(files)
    assert result["changed"] is True and result["written"] == []
    assert mode(write.directory / "nginx.conf") == 0o640


def test_check_mode_reports_the_change_and_writes_nothing(write):
    result = write({"nginx.conf": "events {}\n"}, check_mode=True)
    assert result["changed"] is True
    assert result["written"] == ["nginx.conf"]
    assert not write.directory.exists()


@pytest.mark.parametrize("name", ["../escape", "sub/file", ".."])
def test_a_name_outside_the_directory_is_refused(write, name):
    result = write({name: "x"})
    assert result["failed"]
    assert "plain file names" in result["msg"]
    assert not write.directory.exists()
