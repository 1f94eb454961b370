#!/usr/bin/python3
"""peers.py - time the benchmark's peer solvers on one probe case file.

What it measures: for each peer, the wall time of its training (data loading excluded), then
the quality of what it returns, all scored by ONE function (`score`) in float64 numpy on the
raw (uncentered) activations, against salient's objective (SCIENCE.md section 2):

    F(W, b) = (1/N) sum_i [logsumexp(z_i) - z_{i,y_i}] + l1 |W|_1 + l2 |W|_F^2,  z_i = x_i W + b

with W of shape (D, C) and the bias unpenalized; `violation` is the largest violation of the
optimality conditions (w != 0: |g + l1 sign(w) + 2 l2 w|; w == 0: max(0, |g| - l1); bias: |g_b|),
and the accuracies are argmax accuracies (a test label -1, a class unseen in training, is
always a miss).

The peers:
  neurox  NeuroX's training loop as its users run it (torch, float32, Linear(D, C), Adam lr 1e-3,
          batch 32, 10 epochs, shuffled with seed 1, per-batch loss CE + l1 |W|_1 + l2 |W|_F with
          the Frobenius NORM, not squared). It never aims at the optimum: converged is false.
          Threads: upstream torch's default, one per core (the thread variables are removed
          from its environment; Debian's torch build would start with one), or --neurox-threads.
          On a loaded machine two OpenMP threads can be many times slower than one.
  lbfgsb  scipy's L-BFGS-B on the smooth split form W = P - M, P, M >= 0, float64, serial, on
          centered columns, stopped by its projected-gradient test (gtol = tol / (1 + max |column
          mean|)) and restarted from where it stopped with a tighter gtol while our violation is
          still above --tol (at most 6 runs; seconds and iterations are the totals, and the
          seconds include the centering and our violation checks between runs).
  saga    sklearn's LogisticRegression(elasticnet, saga, multinomial), float64, serial, on
          centered columns, with C and l1_ratio mapped to l1, l2; max_iter sized to end within
          the time limit.

How: every peer runs in its own child process (this script re-invoked with a hidden
`--one PEER`), so that the thread variables are set before numpy/torch load and peak memory
(`peak_rss_mb`, ru_maxrss of the child at its end: the interpreter, the libraries, the case
file and the peer's own copies; `load_rss_mb` is the same before training) is per peer. A child
that runs past --time-limit (seconds, counted from its start, loading included) is killed and
reported with "status": "timeout".

Output: one JSON object per peer on stdout, one line each, nothing else; progress on stderr.
Usage: bench/peers.py CASE.nc --l1 X --l2 Y [--peers neurox,lbfgsb,saga] [--tol T]
                      [--time-limit SECONDS] [--reference REF.nc] [--neurox-threads K]
Run it with Debian's /usr/bin/python3 (torch, scipy, sklearn, numpy, netCDF4).
"""
import argparse
import json
import math
import os
import resource
import signal
import subprocess
import sys
import time

PEERS = ("neurox", "lbfgsb", "saga")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
SAGA_TOL = 1e-8          # sklearn's saga tolerance: max weight change / max weight per epoch
LBFGSB_ROUNDS = 6        # L-BFGS-B runs at most: the first plus restarts with a tighter gtol
SCORE_ROWS = 8192        # rows per block in score(), so that scoring never copies X to float64


def log(*a):
    print("peers:", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Data and scoring (children only; numpy is imported there, after the thread variables are set)

def load_case(path):
    """The case file as numpy arrays: x float32 (rows = tokens), y int32."""
    import netCDF4
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_mask(False)
        d = {k: nc.variables[k][...] for k in ("x_train", "y_train", "x_test", "y_test")}
        d["case"] = str(getattr(nc, "case", os.path.basename(path)))
        d["C"] = len(nc.dimensions["class"])
    return d


def score(d, W, b, l1, l2):
    """F, violation and accuracies of (W (D, C), b (C)) on the raw activations, in float64."""
    import numpy as np
    X, y = d["x_train"], d["y_train"].astype(np.int64)
    N = X.shape[0]
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    loss, hits = 0.0, 0
    G = np.zeros_like(W)
    gb = np.zeros_like(b)
    for s in range(0, N, SCORE_ROWS):
        x = X[s:s + SCORE_ROWS].astype(np.float64)
        yy = y[s:s + SCORE_ROWS]
        r = np.arange(len(yy))
        z = x @ W + b
        hits += int(np.count_nonzero(z.argmax(1) == yy))
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        se = e.sum(1)
        loss += float(np.sum(np.log(se) - z[r, yy]))
        e /= se[:, None]                      # softmax
        e[r, yy] -= 1.0                       # d loss_i / d z_i
        G += x.T @ e
        gb += e.sum(0)
    loss /= N
    G /= N
    gb /= N
    F = loss + l1 * float(np.abs(W).sum()) + l2 * float((W * W).sum())
    nz = W != 0
    v = np.where(nz, np.abs(G + l1 * np.sign(W) + 2 * l2 * W), np.maximum(0.0, np.abs(G) - l1))
    viol = max(float(v.max(initial=0.0)), float(np.abs(gb).max(initial=0.0)))
    Xt, yt = d["x_test"], d["y_test"]
    thits = 0
    for s in range(0, Xt.shape[0], SCORE_ROWS):
        z = Xt[s:s + SCORE_ROWS].astype(np.float64) @ W + b
        thits += int(np.count_nonzero(z.argmax(1) == yt[s:s + SCORE_ROWS]))
    return {"objective": F, "violation": viol, "train_acc": hits / N,
            "test_acc": thits / Xt.shape[0] if Xt.shape[0] else None,
            "nonzero_weights": int(np.count_nonzero(nz))}


def centered(X):
    """float64 copy of X with the training column means subtracted, and the means.

    Centering is what a careful user does: the bias is unpenalized, so the optimum W is the
    same on centered columns and the raw bias is b_raw = b_centered - mean @ W. Without it
    (real activations have column means of 20-46) scipy and sklearn crawl."""
    import numpy as np
    mu = X.mean(0, dtype=np.float64)
    Xc = X.astype(np.float64)
    Xc -= mu
    return Xc, mu


# ---------------------------------------------------------------------------------------------
# The peers: each takes the case and the arguments and returns (W, b_raw, info) where info has
# at least seconds, iterations, threads, converged.

def peer_neurox(d, a):
    import torch
    # Upstream torch starts with one thread per physical core; Debian's 1.13 build starts with
    # one thread, so set that default explicitly: every core this process may run on.
    torch.set_num_threads(a.neurox_threads or len(os.sched_getaffinity(0)))
    X = torch.from_numpy(d["x_train"])                       # float32, raw, as NeuroX does
    y = torch.from_numpy(d["y_train"].astype("int64"))
    N, D = X.shape
    C = d["C"]
    torch.manual_seed(1)
    model = torch.nn.Linear(D, C)                            # default init, seeded
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ce = torch.nn.CrossEntropyLoss()
    gen = torch.Generator()
    gen.manual_seed(1)
    epochs, batch, steps = 10, 32, 0
    t0 = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(N, generator=gen)
        for s in range(0, N, batch):
            idx = order[s:s + batch]
            w = model.weight
            loss = ce(model(X[idx]), y[idx]) + a.l1 * w.abs().sum() + a.l2 * torch.norm(w)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
        log(f"neurox epoch {epoch + 1}/{epochs}, last batch loss {loss.item():.6g}")
    seconds = time.perf_counter() - t0
    W = model.weight.detach().numpy().T.astype("float64")
    b = model.bias.detach().numpy().astype("float64")
    return W, b, {"seconds": seconds, "iterations": epochs, "steps": steps,
                  "threads": torch.get_num_threads(), "converged": False}


def peer_lbfgsb(d, a):
    import numpy as np
    from scipy.optimize import minimize
    t0 = time.perf_counter()
    Xc, mu = centered(d["x_train"])        # centered columns: same optimum W, see centered()
    y = d["y_train"].astype(np.int64)
    N, D = Xc.shape
    C = d["C"]
    n = D * C
    l1, l2 = a.l1, a.l2
    rows = np.arange(N)

    def fg(v):
        """Objective and gradient of the split problem in v = [P, M, b] (centered X)."""
        P, M, b = v[:n].reshape(D, C), v[n:2 * n].reshape(D, C), v[2 * n:]
        W = P - M
        z = Xc @ W
        z += b
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        se = e.sum(1)
        loss = np.mean(np.log(se) - z[rows, y])
        e /= se[:, None]
        e[rows, y] -= 1.0
        e /= N
        G = Xc.T @ e
        gP = G + l1 + 2 * l2 * W
        f = loss + l1 * (P.sum() + M.sum()) + l2 * np.sum(W * W)
        return f, np.concatenate([gP.ravel(), (2 * l1 - gP).ravel(), e.sum(0)])

    bounds = [(0.0, None)] * (2 * n) + [(None, None)] * C
    v = np.zeros(2 * n + C)
    # scipy's gtol bounds the inf-norm of the projected gradient of the centered split problem;
    # our violation is on the raw problem, whose W-gradient is the centered one plus
    # mean_j * g_b[c], so start at tol / (1 + max |mean|), and tighten if that is not enough.
    gtol = a.tol / (1.0 + float(np.abs(mu).max()))
    nit, nfev, rounds, last = 0, 0, 0, math.inf
    while True:
        rounds += 1
        res = minimize(fg, v, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": 100000, "maxfun": 10 ** 8, "maxcor": 10,
                                "ftol": 0.0, "gtol": gtol})
        v = res.x
        nit += res.nit
        nfev += res.nfev
        W = v[:n].reshape(D, C) - v[n:2 * n].reshape(D, C)
        b = v[2 * n:] - mu @ W
        viol = score(d, W, b, l1, l2)["violation"]     # our stopping rule, checked as we go
        log(f"lbfgsb round {rounds}: gtol {gtol:.3g}, nit {res.nit}, nfev {res.nfev}, "
            f"violation {viol:.3g}, {res.message}")
        if viol <= a.tol or rounds >= LBFGSB_ROUNDS or viol >= last:
            break                          # done, or out of rounds, or stalled (precision)
        last = viol
        gtol *= min(0.5, max(1e-3, 0.5 * a.tol / viol))
    seconds = time.perf_counter() - t0
    return W, b, {"seconds": seconds, "iterations": nit, "nfev": nfev, "rounds": rounds,
                  "final_gtol": gtol, "threads": 1, "converged": bool(viol <= a.tol),
                  "message": str(res.message)}


def peer_saga(d, a):
    import warnings
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    t0 = time.perf_counter()
    Xc, mu = centered(d["x_train"])        # centered columns: same optimum W, see centered()
    t_center = time.perf_counter() - t0
    y = d["y_train"]
    N, D = Xc.shape
    C = d["C"]
    if a.l1 + 2 * a.l2 <= 0:
        raise ValueError("saga needs l1 + 2 l2 > 0")
    # sklearn minimizes C_s sum_i loss_i + r |W|_1 + (1 - r)/2 |W|^2; divided by C_s N it is
    # ours with l1 = r / (C_s N), l2 = (1 - r) / (2 C_s N); hence:
    Cs = 1.0 / (N * (a.l1 + 2 * a.l2))
    r = a.l1 / (a.l1 + 2 * a.l2)

    def fit(max_iter):
        clf = LogisticRegression(penalty="elasticnet", solver="saga", multi_class="multinomial",
                                 C=Cs, l1_ratio=r, tol=SAGA_TOL, max_iter=max_iter,
                                 random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")                 # ConvergenceWarning: we report it
            clf.fit(Xc, y)
        return clf

    # Size max_iter (epochs) to end before the deadline: time 2 epochs (setup included, so an
    # upper bound), then fit from scratch; only the centering and that last fit are timed.
    t1 = time.perf_counter()
    fit(2)
    per_epoch = (time.perf_counter() - t1) / 2
    budget = a.deadline - time.time() - 0.05 * a.time_limit - 2 * per_epoch - 2.0
    max_iter = max(1, int(budget / per_epoch))
    log(f"saga: {per_epoch:.3g} s per epoch (upper bound), max_iter {max_iter}")
    t1 = time.perf_counter()
    clf = fit(max_iter)
    seconds = t_center + time.perf_counter() - t1
    it = int(np.max(clf.n_iter_))
    coef, icpt = clf.coef_, clf.intercept_
    if coef.shape[0] == 1 and len(clf.classes_) == 2:    # binary multinomial: sklearn keeps w1
        coef, icpt = np.vstack([-coef, coef]), np.concatenate([-icpt, icpt])
    W = np.zeros((D, C))
    bc = np.full(C, -np.inf)
    W[:, clf.classes_] = coef.T
    bc[clf.classes_] = icpt
    if np.isinf(bc).any():                 # a class without training tokens: b -> -infinity
        log("saga: classes without training tokens get W = 0, b = min(b) - 50")
        bc[np.isinf(bc)] = bc[~np.isinf(bc)].min() - 50.0
    b = bc - mu @ W
    return W, b, {"seconds": seconds, "iterations": it, "max_iter": max_iter, "threads": 1,
                  "converged": bool(it < max_iter), "saga_tol": SAGA_TOL,
                  "C_sklearn": Cs, "l1_ratio": r}


def run_one(a):
    """Child: load, run one peer, score, print one JSON object."""
    d = load_case(a.case)
    load_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"peer": a.one}
    try:
        W, b, info = globals()["peer_" + a.one](d, a)
        out.update(info)
        out.update(score(d, W, b, a.l1, a.l2))
        out["status"] = "ok"
    except Exception as e:                 # reported, not raised: one JSON line per peer
        import traceback
        traceback.print_exc()
        out.update({"status": "error", "error": f"{type(e).__name__}: {e}"})
    out["load_rss_mb"] = load_rss
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, default=float))


# ---------------------------------------------------------------------------------------------
# Parent: one child per peer, with a time limit

def clean(v):
    """Plain JSON numbers; NaN and infinities as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


def run_peer(peer, a, head, ref_obj):
    env = dict(os.environ)
    for k in THREAD_VARS:
        env.pop(k, None)
    if peer != "neurox":                   # serial peers: one BLAS / OpenMP thread
        env.update({k: "1" for k in THREAD_VARS})
    deadline = time.time() + a.time_limit
    argv = [sys.executable, os.path.abspath(__file__), a.case, "--l1", repr(a.l1),
            "--l2", repr(a.l2), "--tol", repr(a.tol), "--time-limit", repr(a.time_limit),
            "--neurox-threads", str(a.neurox_threads),
            "--one", peer, "--deadline", repr(deadline)]
    log(f"{peer}: start")
    t0 = time.time()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, start_new_session=True)
    out = dict(head, peer=peer)
    try:
        stdout, _ = p.communicate(timeout=a.time_limit)
        lines = stdout.decode().strip().splitlines()
        if p.returncode == 0 and lines:
            out.update(json.loads(lines[-1]))
        else:
            out.update({"status": "error", "error": f"child exited with code {p.returncode}"})
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)   # the child's own process group
        p.communicate()
        out.update({"status": "timeout", "seconds": None, "error":
                    f"killed after {time.time() - t0:.1f} s (time limit {a.time_limit} s)"})
    for k in ("seconds", "objective", "violation", "train_acc", "test_acc", "iterations",
              "threads", "peak_rss_mb", "converged"):
        out.setdefault(k, None)
    if out["peer"] == "neurox" and out["status"] == "ok":
        out["converged"] = False
    if ref_obj is not None:
        o = out.get("objective")
        out["gap"] = o - ref_obj if o is not None else None
        out["rel_gap"] = (o - ref_obj) / ref_obj if o is not None else None
    log(f"{peer}: {out['status']} in {time.time() - t0:.1f} s wall")
    print(json.dumps(clean(out), allow_nan=False), flush=True)


def check_reference(a):
    """stderr: the reference's attribute objective against our scoring of its w, b."""
    import netCDF4
    with netCDF4.Dataset(a.reference) as nc:
        nc.set_auto_mask(False)
        W, b = nc.variables["w"][...], nc.variables["b"][...]
        attr = float(nc.objective)
    s = score(load_case(a.case), W, b, a.l1, a.l2)
    log(f"reference: objective attribute {attr:.12g}, rescored {s['objective']:.12g} "
        f"(difference {s['objective'] - attr:.3g}), violation {s['violation']:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case")
    ap.add_argument("--l1", type=float, required=True)
    ap.add_argument("--l2", type=float, required=True)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--reference")
    ap.add_argument("--neurox-threads", type=int, default=0,
                    help="torch threads for neurox (default 0: one per available core)")
    ap.add_argument("--one", choices=PEERS, help=argparse.SUPPRESS)
    ap.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        run_one(a)
        return
    peers = [p for p in a.peers.split(",") if p]
    bad = [p for p in peers if p not in PEERS]
    if bad:
        ap.error(f"unknown peers {bad}; known: {','.join(PEERS)}")
    import netCDF4
    with netCDF4.Dataset(a.case) as nc:
        head = {"case": str(getattr(nc, "case", os.path.basename(a.case))),
                "N": len(nc.dimensions["train"]), "D": len(nc.dimensions["neuron"]),
                "C": len(nc.dimensions["class"]), "l1": a.l1, "l2": a.l2}
    ref_obj = None
    if a.reference:
        with netCDF4.Dataset(a.reference) as nc:
            ref_obj = float(nc.objective)
    for p in peers:
        run_peer(p, a, head, ref_obj)
    if a.reference:
        check_reference(a)


if __name__ == "__main__":
    main()
