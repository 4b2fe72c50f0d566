"""
Quick start: the leakage of a binary channel
============================================

Measure the leakage of a binary channel in every unit the library knows: mutual
information, Sibson's I_2, maximal leakage, the point-wise leakages and the certified
capacity, in bits, and the mutual information in nats (``base=np.e``).
"""

import numpy as np

import leakage as lk

p = np.array([0.5, 0.5])  # P_X
W = np.array([[0.9, 0.1], [0.2, 0.8]])  # W[x, y] = P(y | x)

print(f"I(X;Y)   = {lk.mutual_information(p, W):.6f} bits")
print(f"I_2(X;Y) = {lk.sibson_mutual_information(p, W, 2.0):.6f} bits")
print(f"L(X->Y)  = {lk.maximal_leakage(p, W):.6f} bits")
print(f"I(X;Y)   = {lk.mutual_information(p, W, base=np.e):.6f} nats")
for m in lk.measures.POINTWISE_MEASURES:
    print(f"point-wise {m:8s}: {lk.pointwise_leakage(p, W, measure=m)}")
cap = lk.channel_capacity(W)
print(f"C = {cap.capacity:.12f} bits, certified within [{cap.lower:.12f}, {cap.upper:.12f}]")
