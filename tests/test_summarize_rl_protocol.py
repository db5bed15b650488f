"""python/summarize_rl.py on a runs CSV of the newer layout (issue 21's protocol: model,
target_kind, updates_at, eval_every, curve_episodes): a made-up CSV with two target kinds, the
behaviour-cloning baseline and learning-curve rows gives a table per target kind whose cells are
the mean ± sample std of the right rows (checked against a direct computation), a BC column, a
learning-curve table per data set and target with one row per update count, and nothing for
rows that do not exist; the older layout still gets the older table. Standard library only."""
import csv
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from pycheck import check, done  # noqa: E402

HEAD = ("env,data,arch,mode,seed,steps,batch,K,target,episodes,return_mean,return_std,score,length,step_us,agent_bytes,"
        "train_s,action_mse,threads,model,target_kind,updates_at,eval_every,curve_episodes").split(",")


def row(arch, mode, seed, score, model="dt", kind="paper", target="3600", updates_at="", episodes="100"):
    v = dict(env="hopper", data="medium-replay", arch=arch, mode=mode, seed=seed, steps=1000, batch=64, K=20, target=target,
             episodes=episodes, return_mean=10 * score, return_std=1, score=score, length=100, step_us=5, agent_bytes=9,
             train_s=1, action_mse=0.1, threads=1, model=model, target_kind=kind, updates_at=updates_at, eval_every=500,
             curve_episodes=10)
    return [v[k] for k in HEAD]


def cell(vals):
    return f"{statistics.mean(vals):.1f} ± {statistics.stdev(vals):.1f} (n={len(vals)})"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "python", "summarize_rl.py")
    rows = []
    paper_t, best_t, best_a, bc = [20.0, 24.0, 31.0], [30.0, 33.0, 35.0], [40.0, 41.0, 45.0], [15.0, 17.0, 18.0]
    for s in range(3):
        rows.append(row("transformer", "window-recompute", s + 1, paper_t[s]))
        rows.append(row("transformer", "window-recompute", s + 1, best_t[s], kind="data-best", target="1234.5"))
        rows.append(row("aaren", "window-streams", s + 1, best_a[s], kind="data-best", target="1234.5"))
        rows.append(row("transformer", "window-recompute", s + 1, bc[s], model="bc", kind="none", target="none"))
        for u, sc in ((500, 5.0 + s), (1000, 9.0 + 2 * s)):
            rows.append(row("transformer", "window-recompute", s + 1, sc, kind="data-best", target="1234.5",
                            updates_at=str(u), episodes="10"))
            rows.append(row("transformer", "window-recompute", s + 1, sc - 1, model="bc", kind="none", target="none",
                            updates_at=str(u), episodes="10"))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "rl_protocol_runs.csv"), os.path.join(tmp, "out.md")
        with open(src, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEAD)
            w.writerows(rows)
        p = subprocess.run([sys.executable, script, src, dst], capture_output=True, text=True)
        check(p.returncode == 0, f"summarize_rl.py exits 0 on the newer layout ({p.stderr.strip()[-300:]})")
        if p.returncode:
            return
        text = open(dst, encoding="utf-8").read()
        lines = text.splitlines()
        tables = [i for i, x in enumerate(lines) if x.startswith("## Target:")]
        check(len(tables) == 2 and "best episode return" in lines[tables[0]] and "paper" in lines[tables[1]],
              f"a table per target kind present (data-best, paper): {[lines[i] for i in tables]}")
        best_row = next((x for x in lines[tables[0]:tables[1]] if x.startswith("| hopper-medium-replay")), "")
        paper_row = next((x for x in lines[tables[1]:] if x.startswith("| hopper-medium-replay")), "")
        bcells = [c.strip() for c in best_row.strip("|").split("|")]
        pcells = [c.strip() for c in paper_row.strip("|").split("|")]
        header = [c.strip() for c in lines[tables[0] + 4].strip("|").split("|")]
        check("BC (Transformer network)" in header and "BC (Aaren network, window)" not in header,
              f"a BC column for the BC rows that exist only: {header}")
        ib = header.index("BC (Transformer network)") if "BC (Transformer network)" in header else -1
        check(len(bcells) == len(header) and bcells[1] == "1000" and bcells[2] == cell(best_t) and bcells[3] == cell(best_a)
              and bcells[4] == "-" and bcells[ib] == cell(bc) and bcells[-1] == "1234",
              f"data-best row: Transformer {cell(best_t)}, Aaren window {cell(best_a)}, BC {cell(bc)}: {best_row}")
        check(len(pcells) == len(bcells) and pcells[2] == cell(paper_t) and pcells[3] == "-" and pcells[ib] == cell(bc)
              and pcells[-1] == "3600", f"paper row: Transformer {cell(paper_t)}, BC {cell(bc)}: {paper_row}")
        ic = next((i for i, x in enumerate(lines) if x == "## Learning curves"), None)
        check(ic is not None, "a learning-curve section")
        if ic is not None:
            curve = [x for x in lines[ic:] if x.startswith("| 500") or x.startswith("| 1000")]
            c500 = [c.strip() for c in curve[0].strip("|").split("|")] if curve else []
            check(len(curve) == 2 and c500[1] == cell([5.0, 6.0, 7.0]) and c500[2] == cell([4.0, 5.0, 6.0]),
                  f"curve rows per update count, Transformer and BC mean ± sd over seeds: {curve}")
            want = ("Reading (computed from the table): Decision Transformer 6.0 at 500 updates and 11.0 at 1000, "
                    "between 6.0 and 11.0 over its 2 points;")
            check(want in text, f"the curve's reading: {want!r}")
            check("BC (Transformer network) 5.0 at 500 updates and 10.0 at 1000, between 5.0 and 10.0" in text,
                  "the BC column's reading")
            check("target data-best" in text[text.index("## Learning curves"):] and
                  "target paper" not in text[text.index("## Learning curves"):],
                  "a curve table for the target that has curve rows only")
        # the older layout: the older table (no protocol sections)
        old = os.path.join(tmp, "rl_runs.csv")
        with open(old, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEAD[:19])
            w.writerows([r[:19] for r in rows if r[HEAD.index("model")] == "dt" and not r[HEAD.index("updates_at")]
                         and r[HEAD.index("target_kind")] == "paper"])
        p = subprocess.run([sys.executable, script, old, dst], capture_output=True, text=True)
        text = open(dst, encoding="utf-8").read() if p.returncode == 0 else ""
        check(p.returncode == 0 and "## Target:" not in text and "Decision Aaren vs Decision Transformer" in text,
              f"the older layout gets the older table ({p.stderr.strip()[-200:]})")


if __name__ == "__main__":
    main()
    sys.exit(done("test_summarize_rl_protocol"))
