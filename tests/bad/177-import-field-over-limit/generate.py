def generate(repo):
    (repo / "r.csv").write_text("单位,指标,数值,扣分理由\na,3,0.5,\"" + "长" * 140_000 + "\"\n", encoding="utf-8")
