"""The data layer (reading, writing, the journal, the cache, git revisions, fmt) speaks Chinese by
default and English on request, and none of its messages escapes the catalogue."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from gapctl import i18n
from gapctl.data import journal as J
from gapctl.data.cache import refusal as cache_refusal
from gapctl.data.reads import Refused, read_bytes
from gapctl.data.sources import read_file
from gapctl.data.tree import GitError, GitTree
from gapctl.data.writes import WriteError, write_atomically
from gapctl.io.fmt import format_paths
from tests.conftest import ROOT


@pytest.fixture
def zh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The language a user gets when nothing says otherwise: no GAPCTL_LANG, no English locale."""
    for name in ("GAPCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    i18n.use(None)
    assert i18n.lang() == "zh"


def _message(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    [problem] = read_file(path).problems
    return problem.message


# --- reading files --------------------------------------------------------------------------

def test_a_gbk_file_is_named_and_the_fix_given_in_chinese(tmp_path, zh):
    message = _message(tmp_path / "a.yaml", "unit: 区财政局\n".encode("gb18030"))
    assert message.startswith("文件不是 UTF-8 编码：此处的字节 0x")
    assert "看起来是GBK/GB18030 编码（中文 Windows 编辑器默认以此保存）。可以这样转换：iconv -f GB18030 -t UTF-8 " \
           f"'{read_file(tmp_path / 'a.yaml').src.display}' > tmp" in message


@pytest.mark.parametrize("data, chinese", [
    (b"  \n", "文件是空的"),
    (b"# only a comment\n", "文件中没有数据（只有注释？）"),
    (b"unit: a\nunit: b\n", "此映射中的键 'unit' 重复；只能给出一个值"),
    (b"unit: a\nresults:\n\t- x\n", "；YAML 缩进必须用空格，不能用制表符（Tab）"),
    (b"a: !!python/object:os.system x\n", "不支持 YAML 标签 '!!python/object:os.system'"),
    (b"a: {<<: {b: 1}}\n", "不支持 YAML 合并键（'<<'）"),
])
def test_yaml_problems_in_chinese(tmp_path, zh, data, chinese):
    assert chinese in _message(tmp_path / "a.yaml", data)


def test_toml_problems_in_chinese(tmp_path, zh):
    assert _message(tmp_path / "a.toml", b'a = 1\na = 2\n').startswith("键或表重复：")
    assert _message(tmp_path / "b.toml", b'a = [\n').startswith("TOML 语法错误：")


def test_a_file_over_the_limit_says_how_to_raise_it(tmp_path, zh, monkeypatch):
    monkeypatch.setenv("GAPCTL_MAX_FILE_MB", "0.001")
    message = _message(tmp_path / "a.yaml", b"a: " + b"x" * 2000 + b"\n")
    assert message == ("文件大小为 2.0 KB，超过上限 1.0 KB；如需读取，请用环境变量 GAPCTL_MAX_FILE_MB 提高上限"
                       "（例如 GAPCTL_MAX_FILE_MB=1）")


def test_english_on_request(tmp_path):
    i18n.use("en")
    assert _message(tmp_path / "a.yaml", b"  \n") == "file is empty"
    i18n.use(None)


def test_a_link_out_of_the_repository_is_refused_in_chinese(tmp_path, zh):
    repo, outside = tmp_path / "repo", tmp_path / "secret.yaml"
    (repo / "schemes").mkdir(parents=True)
    outside.write_text("a: 1\n", encoding="utf-8")
    (repo / "schemes" / "s.yaml").symlink_to(outside)
    with pytest.raises(Refused) as refused:
        read_bytes(repo / "schemes" / "s.yaml")
    assert refused.value.why == f"是指向 {outside} 的符号链接，目标在仓库（{repo}）之外；gapctl 不读取仓库之外的文件"


# --- writing ----------------------------------------------------------------------------------

def test_a_write_through_a_link_is_refused_in_chinese(tmp_path, zh):
    target = tmp_path / "target.yaml"
    target.write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to(target)
    with pytest.raises(WriteError) as refused:
        write_atomically(tmp_path / "link.yaml", b"a: 2\n")
    assert str(refused.value).endswith(": 是符号链接；gapctl 不通过链接写入（请编辑它指向的文件）")


def test_an_interrupted_write_is_reported_and_undone_in_chinese(tmp_path, zh, capsys):
    journal = J.Journal.begin(tmp_path)
    journal.intend(tmp_path / "a.yaml")
    journal.close()  # a run killed before it committed
    [line] = J.pending(tmp_path)
    assert line.startswith(f"{tmp_path}: 有一次 1 个文件的写入被中断")
    assert line.endswith("尚未完成；下一个在此写入的 gapctl 命令（如 gapctl fmt）会撤销这次写入")
    [done] = J.recover(tmp_path)
    assert done.startswith("已撤销 ") and done.endswith("：没有文件被改动；已删除 0 个临时文件")
    assert capsys.readouterr().err == f"gapctl: {done}\n"


def test_fmt_speaks_chinese(tmp_path, zh):
    result = format_paths([tmp_path / "missing"], check=True)
    [problem] = result.problems
    assert problem.endswith("missing: 文件或目录不存在")


# --- the cache and git revisions -----------------------------------------------------------------

def test_a_cache_directory_that_is_a_link_is_refused_in_chinese(tmp_path, zh):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".gapctl-cache").symlink_to(tmp_path / "elsewhere")
    why = cache_refusal(tmp_path / ".gapctl-cache")
    assert why is not None and why.endswith(" 是符号链接，不使用缓存（gapctl 只把缓存写入它自己的目录：请删除该链接）")


def test_an_unknown_revision_in_chinese(tmp_path, zh):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with pytest.raises(GitError) as unknown:
        GitTree(tmp_path, "v9")
    assert str(unknown.value) == "未知的版本 'v9'（本地克隆中没有；CI 检出代码时需要设置 fetch-depth: 0）"


# --- no message escapes the catalogue --------------------------------------------------------------

DATA_LAYER = ("data/sources", "data/schema", "scoring/load", "data/reads", "data/value_count", "data/writes",
              "data/journal", "data/cache", "data/tree", "io/fmt", "data/yaml_edit", "data/yaml_depth", "figures")
# callables that take a message a user reads, and which argument it is
MESSAGE_ARGUMENT = {"Problem": 1, "problem": 1, "unreadable_problem": 1, "unsupported": 1, "Refused": 1,
                    "WriteError": 0, "DiskFull": 0, "GitError": 0, "Busy": 0, "notice": 0, "_say": 0}


def _bare(node: ast.expr) -> bool:
    """English text written straight into a message: an f-string, or a literal with words in it."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(c.isalpha() for c in node.value)
    if isinstance(node, ast.BinOp):
        return _bare(node.left) or _bare(node.right)
    if isinstance(node, ast.IfExp):
        return _bare(node.body) or _bare(node.orelse)
    return False


@pytest.mark.parametrize("module", DATA_LAYER)
def test_every_message_of_the_data_layer_goes_through_the_catalogue(module):
    tree = ast.parse((ROOT / "gapctl" / f"{module}.py").read_text(encoding="utf-8"))
    bare = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else \
            node.func.attr if isinstance(node.func, ast.Attribute) else ""
        index = MESSAGE_ARGUMENT.get(name)
        if name == "append" and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "problems":
            index = 0  # fmt's result.problems: lines printed as they are
        if index is not None and len(node.args) > index and _bare(node.args[index]):
            bare.append(f"gapctl/{module}.py:{node.lineno}")
    assert not bare, f"messages not wrapped in _(): {bare}"
