def generate(repo):
    (repo / "r.csv").write_text("单位,指标,数值\n" + "".join(f"u{i},3,0.5\n" for i in range(1000)), encoding="utf-8")
