def generate(repo):
    with open(repo / "r.csv", "w", encoding="utf-8") as out:
        out.write("单位,指标,数值\n")
        out.writelines(f"u{i},3,0.5\n" for i in range(1_000_000))
