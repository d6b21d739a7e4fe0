"""Make the unit's observation file 50 MB: the real entries, then a long comment."""
from pathlib import Path


def generate(case: Path) -> None:
    path = case / "rounds/r/observations/town.yaml"
    line = "# " + "抽查栏目内容完整" * 16 + "\n"
    data = path.read_bytes() + line.encode("utf-8") * (50 * 1024 * 1024 // len(line.encode("utf-8")) + 1)
    path.write_bytes(data)
