"""Shortest distances on the ward graph, computed once per ward (Dijkstra from every node)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping


def all_pairs(nodes: Iterable[str], edges: Iterable[tuple[str, str, float]]) -> dict[str, dict[str, float]]:
    """Metres of the shortest walk between every pair of nodes (undirected edges).

    Unreachable pairs are absent from the inner mapping. A ward has tens of nodes, so running
    Dijkstra from each node is instant and replications only look distances up.
    """
    adj: dict[str, list[tuple[str, float]]] = {n: [] for n in nodes}
    for a, b, metres in edges:
        adj[a].append((b, metres))
        adj[b].append((a, metres))
    return {n: _dijkstra(adj, n) for n in adj}


def _dijkstra(adj: Mapping[str, list[tuple[str, float]]], start: str) -> dict[str, float]:
    dist: dict[str, float] = {start: 0.0}
    heap: list[tuple[float, str]] = [(0.0, start)]
    while heap:
        d, node = heapq.heappop(heap)
        if d > dist.get(node, float("inf")):
            continue
        for nxt, metres in adj[node]:
            nd = d + metres
            if nd < dist.get(nxt, float("inf")):
                dist[nxt] = nd
                heapq.heappush(heap, (nd, nxt))
    return dist
