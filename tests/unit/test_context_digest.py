import pytest
from ansible.errors import AnsibleLookupError

from context_digest import context_digest


@pytest.fixture
def context(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM base\nCOPY . /app\n")
    (tmp_path / "Dockerfile.debian").write_text("FROM debian\n")
    (tmp_path / "server.js").write_text("console.log('v1')\n")
    (tmp_path / "node_modules" / "redis").mkdir(parents=True)
    (tmp_path / "node_modules" / "redis" / "index.js").write_text("x")
    (tmp_path / ".dockerignore").write_text("# comment\nnode_modules\ntest/\n")
    return tmp_path


def test_same_context_same_digest(context):
    assert context_digest(str(context)) == context_digest(str(context))
    assert len(context_digest(str(context))) == 12


def test_source_change_changes_digest(context):
    before = context_digest(str(context))
    (context / "server.js").write_text("console.log('v2')\n")
    assert context_digest(str(context)) != before


def test_new_file_changes_digest(context):
    before = context_digest(str(context))
    (context / "lib").mkdir()
    (context / "lib" / "util.js").write_text("")
    assert context_digest(str(context)) != before


def test_ignored_paths_do_not_count(context):
    before = context_digest(str(context))
    (context / "node_modules" / "redis" / "index.js").write_text("changed")
    (context / "test").mkdir()
    (context / "test" / "a.test.js").write_text("")
    assert context_digest(str(context)) == before


def test_dockerfile_and_base_are_part_of_the_digest(context):
    official = context_digest(str(context))
    assert context_digest(str(context), dockerfile="Dockerfile.debian") != official
    assert context_digest(str(context), extra=["debian:bookworm"]) != official


def test_missing_dockerfile_is_an_error(context):
    with pytest.raises(AnsibleLookupError, match="has no Dockerfile.nope"):
        context_digest(str(context), dockerfile="Dockerfile.nope")
