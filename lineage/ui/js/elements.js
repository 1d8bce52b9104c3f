// API answers -> graph elements, pure: no DOM, no fetch, no cytoscape. Everything the page decides
// about the graph (which regions a node is in, which tags it carries, what a filter keeps, where a node
// is drawn) is here, so it can be read and tested on its own.

export const RESIDENCY_FACET = "spine_residency";
export const GOVERNANCE_FACET = "spine_governance";

// `PII` matches `PII` and its dotted children (`PII.email`), not `PIIX` (as the service's tag filter).
export function tagMatches(tag, wanted) {
  return tag === wanted || tag.startsWith(wanted + ".");
}

// Every tag on a dataset: its own and its fields', from the `tags` facet and the schema, once each.
export function datasetTags(data) {
  if (!data) return [];
  const tags = new Set(data.tags || []);
  for (const field of data.fields || []) for (const tag of field.tags || []) tags.add(tag);
  for (const detail of data.tagDetails || []) if (detail.key) tags.add(detail.key);
  return [...tags].sort();
}

export function residencyDecisions(runFacets) {
  const facet = runFacets && runFacets[RESIDENCY_FACET];
  return facet && Array.isArray(facet.decisions) ? facet.decisions : [];
}

// A decision names a dataset as the gate knows it (`crm.customers`); the graph may hold the governed
// topic (`crm.customers.v1`), a namespaced table (`public.crm.customers`) or the same name.
export function nameMatches(data, wanted) {
  if (!wanted || !data) return false;
  const names = [data.name];
  const governance = data.facets && data.facets[GOVERNANCE_FACET];
  if (governance && governance.governed_topic) names.push(governance.governed_topic);
  return names.some(
    (name) =>
      name === wanted ||
      name.endsWith("." + wanted) ||
      name.endsWith("/" + wanted) ||
      new RegExp("^" + escapeRegExp(wanted) + "\\.v\\d+$").test(name),
  );
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function edgesOf(node) {
  return [...(node.inEdges || []), ...(node.outEdges || [])];
}

// Regions by node id, from what the graph itself says: a dataset facet with a `region`, and the
// residency decisions of each job's latest run (the moved dataset is in the source region, the sink in
// the destination region; a job is in both). A decision whose dataset or sink names no node of the
// graph falls back to the job's inputs or outputs.
export function regionsByNode(graph) {
  const regions = new Map();
  const add = (id, region) => {
    if (!region) return;
    if (!regions.has(id)) regions.set(id, new Set());
    regions.get(id).add(region);
  };
  const byId = new Map(graph.map((n) => [n.id, n]));
  for (const node of graph) {
    if (node.type !== "DATASET" || !node.data) continue;
    for (const facet of Object.values(node.data.facets || {})) {
      if (facet && typeof facet.region === "string") add(node.id, facet.region);
    }
  }
  for (const job of graph) {
    if (job.type !== "JOB" || !job.data || !job.data.latestRun) continue;
    const inputs = (job.inEdges || []).map((e) => byId.get(e.origin)).filter(Boolean);
    const outputs = (job.outEdges || []).map((e) => byId.get(e.destination)).filter(Boolean);
    for (const decision of residencyDecisions(job.data.latestRun.facets)) {
      add(job.id, decision.source_region);
      add(job.id, decision.destination_region);
      const sources = graph.filter((n) => n.type === "DATASET" && nameMatches(n.data, decision.dataset));
      for (const node of sources.length ? sources : inputs) add(node.id, decision.source_region);
      const sinks = graph.filter((n) => n.type === "DATASET" && nameMatches(n.data, decision.sink));
      for (const node of sinks.length ? sinks : outputs) add(node.id, decision.destination_region);
    }
  }
  return new Map([...regions].map(([id, set]) => [id, [...set].sort()]));
}

export function shortLabel(name, limit = 26) {
  return name.length <= limit ? name : "…" + name.slice(name.length - limit + 1);
}

// Cytoscape element definitions for a `{"graph": [...]}` answer: one node per graph node, one edge per
// distinct (origin, destination), both carrying what the styles and filters need.
export function toElements(graph) {
  const regions = regionsByNode(graph);
  const ids = new Set(graph.map((n) => n.id));
  const nodes = graph.map((node) => {
    const data = node.data || {};
    const name = data.name || node.id.split(":").slice(2).join(":");
    const tags = node.type === "DATASET" ? datasetTags(data) : [];
    return {
      group: "nodes",
      data: {
        id: node.id,
        kind: node.type,
        name,
        namespace: data.namespace || "",
        label: shortLabel(name),
        tags,
        regions: regions.get(node.id) || [],
        state: node.type === "JOB" && data.latestRun ? data.latestRun.state : null,
      },
    };
  });
  const edges = new Map();
  for (const node of graph) {
    for (const edge of edgesOf(node)) {
      const id = edge.origin + "->" + edge.destination;
      if (!edges.has(id) && ids.has(edge.origin) && ids.has(edge.destination)) {
        edges.set(id, { group: "edges", data: { id, source: edge.origin, target: edge.destination } });
      }
    }
  }
  return { nodes, edges: [...edges.values()] };
}

// The matched nodes and every node and edge on a directed path from one matched node to another
// (the same rule the service applies to a tag, here for regions the page derives itself).
export function pathsBetween(elements, matched) {
  const down = new Map();
  const up = new Map();
  for (const edge of elements.edges) {
    const { source, target } = edge.data;
    if (!down.has(source)) down.set(source, []);
    if (!up.has(target)) up.set(target, []);
    down.get(source).push(target);
    up.get(target).push(source);
  }
  const reach = (start, step) => {
    const seen = new Set(start);
    const stack = [...start];
    while (stack.length) {
      for (const other of step.get(stack.pop()) || []) {
        if (!seen.has(other)) {
          seen.add(other);
          stack.push(other);
        }
      }
    }
    return seen;
  };
  const after = reach(matched, down);
  const before = reach(matched, up);
  const edges = elements.edges.filter((e) => after.has(e.data.source) && before.has(e.data.target));
  const nodes = new Set(matched);
  for (const edge of edges) {
    nodes.add(edge.data.source);
    nodes.add(edge.data.target);
  }
  return { nodes, edges: new Set(edges.map((e) => e.data.id)) };
}

export function nodesInRegion(elements, region) {
  return elements.nodes.filter((n) => n.data.regions.includes(region)).map((n) => n.data.id);
}

export function nodesWithTag(elements, tag) {
  return elements.nodes.filter((n) => n.data.tags.some((t) => tagMatches(t, tag))).map((n) => n.data.id);
}

export function allRegions(elements) {
  return [...new Set(elements.nodes.flatMap((n) => n.data.regions))].sort();
}

export function allTags(elements) {
  const tags = new Set();
  for (const node of elements.nodes) {
    for (const tag of node.data.tags) {
      const parts = tag.split(".");
      for (let i = 1; i <= parts.length; i++) tags.add(parts.slice(0, i).join("."));
    }
  }
  return [...tags].sort();
}

// Left-to-right layers (upstream left), linear in nodes and edges so a few hundred nodes lay out at
// once: longest path from the sources, nodes on a cycle placed after their placed predecessors, then
// two barycentre sweeps to cut crossings. Returns {id: {x, y}}.
export function layeredPositions(elements, { columnGap = 220, rowGap = 70 } = {}) {
  const ids = elements.nodes.map((n) => n.data.id);
  const preds = new Map(ids.map((id) => [id, []]));
  const succs = new Map(ids.map((id) => [id, []]));
  for (const edge of elements.edges) {
    const { source, target } = edge.data;
    if (source === target || !preds.has(target) || !succs.has(source)) continue;
    preds.get(target).push(source);
    succs.get(source).push(target);
  }
  const layer = new Map();
  const pending = new Map(ids.map((id) => [id, preds.get(id).length]));
  let queue = ids.filter((id) => pending.get(id) === 0);
  const placeFrom = (start) => {
    while (start.length) {
      const next = [];
      for (const id of start) {
        const level = Math.max(-1, ...preds.get(id).filter((p) => layer.has(p)).map((p) => layer.get(p))) + 1;
        layer.set(id, level);
        for (const succ of succs.get(id)) {
          pending.set(succ, pending.get(succ) - 1);
          if (pending.get(succ) === 0 && !layer.has(succ)) next.push(succ);
        }
      }
      start = next;
    }
  };
  placeFrom(queue);
  for (const id of ids) {
    // A cycle leaves its nodes with unplaced predecessors: break it at the first such node.
    if (!layer.has(id)) placeFrom([id]);
  }
  const columns = new Map();
  for (const id of ids) {
    const level = layer.get(id);
    if (!columns.has(level)) columns.set(level, []);
    columns.get(level).push(id);
  }
  const levels = [...columns.keys()].sort((a, b) => a - b);
  for (const level of levels) columns.get(level).sort();
  const order = new Map();
  const index = () => {
    for (const level of levels) columns.get(level).forEach((id, i) => order.set(id, i));
  };
  index();
  const sweep = (sequence, neighbours) => {
    for (const level of sequence) {
      const column = columns.get(level);
      const weight = new Map(
        column.map((id) => {
          const around = neighbours.get(id).filter((n) => order.has(n) && layer.get(n) !== level);
          const mean = around.length
            ? around.reduce((sum, n) => sum + order.get(n), 0) / around.length
            : order.get(id);
          return [id, mean];
        }),
      );
      column.sort((a, b) => weight.get(a) - weight.get(b) || (a < b ? -1 : a > b ? 1 : 0));
      column.forEach((id, i) => order.set(id, i));
    }
  };
  for (let pass = 0; pass < 2; pass++) {
    sweep(levels.slice(1), preds);
    sweep(levels.slice(0, -1).reverse(), succs);
  }
  const positions = {};
  for (const level of levels) {
    const column = columns.get(level);
    column.forEach((id, i) => {
      positions[id] = { x: level * columnGap, y: (i - (column.length - 1) / 2) * rowGap };
    });
  }
  return positions;
}

// `datetime-local` text (the viewer's local time) -> the ISO-8601 UTC instant the API takes, or null.
export function asOfParam(localText) {
  if (!localText) return null;
  const when = new Date(localText);
  return Number.isNaN(when.getTime()) ? null : when.toISOString();
}

// Marquez node ids put the namespace and name after the kind, joined with ':'; both may hold colons, so
// the page keeps the parts it was given rather than splitting ids.
export function datasetNodeId(namespace, name) {
  return `dataset:${namespace}:${name}`;
}

export function jobNodeId(namespace, name) {
  return `job:${namespace}:${name}`;
}
