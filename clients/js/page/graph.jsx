// The assistant's graph from GET /assistants/{id}/graph, drawn as an SVG column of nodes in
// the order a walk from __start__ reaches them, with an arrow for each edge.
import { useEffect, useState } from "react";

const WIDTH = 180;
const ROW = 56;
const BOX = { width: 120, height: 30 };

/** Nodes in breadth-first order from `__start__`, then any the walk did not reach. */
function layout(graph) {
  const next = new Map(graph.nodes.map((node) => [node.id, []]));
  for (const edge of graph.edges) next.get(edge.source)?.push(edge.target);
  const order = [];
  const queue = ["__start__"];
  while (queue.length > 0) {
    const id = queue.shift();
    if (order.includes(id) || !next.has(id)) continue;
    order.push(id);
    queue.push(...next.get(id));
  }
  for (const node of graph.nodes) if (!order.includes(node.id)) order.push(node.id);
  return new Map(order.map((id, row) => [id, { x: WIDTH / 2, y: 20 + row * ROW }]));
}

export function GraphView({ client, assistantId }) {
  const [graph, setGraph] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setError(null);
    client.assistants.getGraph(assistantId).then(setGraph, (reason) => setError(String(reason)));
  }, [client, assistantId]);
  if (error) return <p className="error">Could not load the graph: {error}</p>;
  if (!graph) return <p className="muted">Loading the graph…</p>;
  const at = layout(graph);
  const height = 20 + at.size * ROW;
  return (
    <svg
      className="graph"
      data-testid="graph"
      viewBox={`0 0 ${WIDTH} ${height}`}
      width={WIDTH}
      height={height}
      role="img"
      aria-label={`graph of ${assistantId}`}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" className="arrowhead" />
        </marker>
      </defs>
      {graph.edges.map((edge) => {
        const from = at.get(edge.source);
        const to = at.get(edge.target);
        if (!from || !to) return null;
        return (
          <line
            key={`${edge.source}->${edge.target}`}
            data-edge={`${edge.source}->${edge.target}`}
            className={edge.conditional ? "edge conditional" : "edge"}
            x1={from.x}
            y1={from.y + BOX.height / 2}
            x2={to.x}
            y2={to.y - BOX.height / 2 - 2}
            markerEnd="url(#arrow)"
          />
        );
      })}
      {graph.nodes.map((node) => {
        const { x, y } = at.get(node.id);
        const terminal = node.id === "__start__" || node.id === "__end__";
        return (
          <g key={node.id} data-node={node.id} className={terminal ? "node terminal" : "node"}>
            <rect x={x - BOX.width / 2} y={y - BOX.height / 2} width={BOX.width} height={BOX.height} rx="8" />
            <text x={x} y={y + 4} textAnchor="middle">
              {node.id}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
