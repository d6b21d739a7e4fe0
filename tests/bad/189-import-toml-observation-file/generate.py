def generate(repo):
    (repo / "rounds/r1/observations/b.yaml").unlink()
