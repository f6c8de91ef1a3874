#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A training script that knows nothing about cairn's API: it prints metric lines that
# `cairn run` reads (the line protocol). Softmax regression by mini-batch SGD, stdlib only.
#   cairn run --experiment quickstart -p lr=0.5 -- python3 examples/train.py --lr 0.5 data/iris.csv
import argparse
import csv
import math
import os
import random


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    x = [[float(v) for v in r[:-1]] for r in body]
    labels = sorted({r[-1] for r in body})
    y = [labels.index(r[-1]) for r in body]
    return header[:-1], x, y, len(labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--lr", type=float, default=0.5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CAIRN_SEED", "0")))
    args = ap.parse_args()

    names, x, y, k = load(args.data)
    rng = random.Random(args.seed)
    order = list(range(len(x)))
    rng.shuffle(order)
    n_val = len(x) // 5
    val, train = order[:n_val], order[n_val:]
    d = len(names)
    mean = [sum(x[i][j] for i in train) / len(train) for j in range(d)]
    sd = [math.sqrt(sum((x[i][j] - mean[j]) ** 2 for i in train) / len(train)) or 1.0 for j in range(d)]
    xs = [[(r[j] - mean[j]) / sd[j] for j in range(d)] for r in x]
    w = [[0.0] * (d + 1) for _ in range(k)]

    def probs(r):
        z = [sum(w[c][j] * r[j] for j in range(d)) + w[c][d] for c in range(k)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        return [v / s for v in e]

    def evaluate(rows):
        loss, hits = 0.0, 0
        for i in rows:
            p = probs(xs[i])
            loss -= math.log(max(p[y[i]], 1e-15))
            hits += p.index(max(p)) == y[i]
        return loss / len(rows), hits / len(rows)

    print(f"cairn.param: n_features={d}")
    for epoch in range(args.epochs):
        rng.shuffle(train)
        for start in range(0, len(train), 16):
            batch = train[start:start + 16]
            grad = [[0.0] * (d + 1) for _ in range(k)]
            for i in batch:
                p = probs(xs[i])
                for c in range(k):
                    g = p[c] - (1.0 if c == y[i] else 0.0)
                    for j in range(d):
                        grad[c][j] += g * xs[i][j]
                    grad[c][d] += g
            for c in range(k):
                for j in range(d + 1):
                    w[c][j] -= args.lr * grad[c][j] / len(batch)
        train_loss, train_acc = evaluate(train)
        val_loss, val_acc = evaluate(val)
        print(f"cairn: step={epoch} loss={train_loss:.6f} acc={train_acc:.4f} "
              f"val/loss={val_loss:.6f} val/acc={val_acc:.4f}", flush=True)
    print(f"cairn.final: val_loss={val_loss:.6f} val_acc={val_acc:.4f}")
    print("cairn.tag: model=softmax-sgd")


if __name__ == "__main__":
    main()
