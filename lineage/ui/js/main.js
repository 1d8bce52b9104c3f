// The page: controls -> API calls -> elements (elements.js) -> cytoscape, and the side panel on a click.
// The view's state lives in the URL fragment, so a view can be reloaded and shared.

import * as api from "./api.js";
import {
  allRegions,
  allTags,
  asOfParam,
  layeredPositions,
  nodesInRegion,
  nodesWithTag,
  pathsBetween,
  toElements,
} from "./elements.js";
import { el, fill, showDataset, showJob } from "./panel.js";

const $ = (id) => document.getElementById(id);
const BIG_GRAPH = 250;

const state = {
  focus: null,
  depth: 2,
  direction: "both",
  tag: "",
  region: "",
  mode: "highlight",
  asOfLocal: "",
};
let elements = { nodes: [], edges: [] };
let generation = 0;
const seenTags = new Set();

const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(caption)",
      "text-wrap": "wrap",
      "text-max-width": 180,
      "text-valign": "center",
      "font-size": 12,
      "font-family": "system-ui, DejaVu Sans, sans-serif",
      color: "#1f2933",
      width: 190,
      height: 40,
      "border-width": 2,
    },
  },
  {
    selector: 'node[kind = "DATASET"]',
    style: { shape: "round-rectangle", "background-color": "#e6eefc", "border-color": "#4a73c9" },
  },
  {
    selector: 'node[kind = "JOB"]',
    style: { shape: "ellipse", "background-color": "#fbf0dc", "border-color": "#b7791f", width: 150 },
  },
  { selector: "node.path", style: { "border-color": "#f29900", "border-width": 3 } },
  { selector: "node.tagged", style: { "border-color": "#d93025", "border-width": 4, "background-color": "#fde7e6" } },
  { selector: "node.focus", style: { "border-style": "double", "border-width": 6 } },
  { selector: "node.impact", style: { "background-color": "#fff4c2" } },
  { selector: "node:selected", style: { "overlay-color": "#4a73c9", "overlay-opacity": 0.15, "overlay-padding": 6 } },
  {
    selector: "edge",
    style: {
      width: 1.5,
      "line-color": "#9aa8b6",
      "target-arrow-color": "#9aa8b6",
      "target-arrow-shape": "triangle",
      "curve-style": "bezier",
      "arrow-scale": 0.9,
    },
  },
  { selector: "edge.path", style: { width: 3, "line-color": "#f29900", "target-arrow-color": "#f29900" } },
  { selector: ".dim", style: { opacity: 0.18 } },
];

const cy = cytoscape({
  container: $("graph"),
  style: STYLE,
  minZoom: 0.05,
  maxZoom: 3,
  boxSelectionEnabled: false,
});
// A handle for people debugging the page from the console and for the browser tests.
window.lineageView = { cy, state, elements: () => elements };

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.focus = params.get("node");
  state.depth = Number(params.get("depth")) || 2;
  state.direction = params.get("direction") || "both";
  state.tag = params.get("tag") || "";
  state.region = params.get("region") || "";
  state.mode = params.get("mode") === "filter" ? "filter" : "highlight";
  state.asOfLocal = params.get("asOf") || "";
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.focus) params.set("node", state.focus);
  params.set("depth", String(state.depth));
  if (state.direction !== "both") params.set("direction", state.direction);
  if (state.tag) params.set("tag", state.tag);
  if (state.region) params.set("region", state.region);
  if (state.mode !== "highlight") params.set("mode", state.mode);
  if (state.asOfLocal) params.set("asOf", state.asOfLocal);
  history.replaceState(null, "", "#" + params.toString());
}

function syncControls() {
  $("depth").value = String(state.depth);
  $("depth-value").value = String(state.depth);
  $("direction").value = state.direction;
  $("tag").value = state.tag;
  $("as-of").value = state.asOfLocal;
  document.querySelector(`input[name="mode"][value="${state.mode}"]`).checked = true;
}

function setBusy(busy) {
  document.body.dataset.busy = busy ? "true" : "false";
}

function showStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// Which nodes and edges the tag and region pick out: the service's tagged paths for a tag, the same rule
// applied here for a region; null when neither is set.
async function matches(asOf) {
  const sets = [];
  if (state.tag) {
    if (state.focus && state.mode === "highlight") {
      const tagged = toElements(
        (await api.lineage({ nodeId: state.focus, depth: state.depth, direction: state.direction, tag: state.tag, asOf })).graph,
      );
      sets.push({ nodes: new Set(tagged.nodes.map((n) => n.data.id)), edges: new Set(tagged.edges.map((e) => e.data.id)) });
    } else {
      // The graph was fetched filtered by the tag: all of it is tagged datasets and paths between them.
      sets.push({ nodes: new Set(elements.nodes.map((n) => n.data.id)), edges: new Set(elements.edges.map((e) => e.data.id)) });
    }
  }
  if (state.region) sets.push(pathsBetween(elements, nodesInRegion(elements, state.region)));
  if (!sets.length) return null;
  return sets.reduce((a, b) => ({
    nodes: new Set([...a.nodes].filter((id) => b.nodes.has(id))),
    edges: new Set([...a.edges].filter((id) => b.edges.has(id))),
  }));
}

async function refresh() {
  writeHash();
  const mine = ++generation;
  const asOf = asOfParam(state.asOfLocal);
  if (!state.focus && !state.tag) {
    elements = { nodes: [], edges: [] };
    draw(null);
    showStatus("");
    setBusy(false);
    return;
  }
  setBusy(true);
  showStatus("Loading…");
  try {
    const filterByTag = state.tag && (state.mode === "filter" || !state.focus);
    const answer = await api.lineage(
      state.focus
        ? { nodeId: state.focus, depth: state.depth, direction: state.direction, tag: filterByTag ? state.tag : null, asOf }
        : { tag: state.tag, asOf },
    );
    if (mine !== generation) return;
    elements = toElements(answer.graph);
    const picked = await matches(asOf);
    if (mine !== generation) return;
    draw(picked);
    describe(picked);
    const shown = $("panel").dataset.node;
    if (shown && !cy.getElementById(shown).empty()) await select(shown);
  } catch (error) {
    if (mine !== generation) return;
    elements = { nodes: [], edges: [] };
    draw(null);
    showStatus(error.message, true);
  } finally {
    if (mine === generation) setBusy(false);
  }
}

function describe(picked) {
  const shown = cy.nodes(":visible");
  const parts = [`${shown.length} nodes`, `${cy.edges(":visible").length} edges`];
  if (picked) {
    const what = [state.tag && `tag ${state.tag}`, state.region && `region ${state.region}`].filter(Boolean).join(" + ");
    parts.push(`${picked.nodes.size} on ${what} paths`);
  }
  if (state.asOfLocal) parts.push(`as of ${state.asOfLocal.replace("T", " ")}`);
  showStatus(parts.join(" · "));
}

function draw(picked) {
  $("empty").hidden = elements.nodes.length > 0 || Boolean(state.focus || state.tag);
  for (const node of elements.nodes) {
    const regions = node.data.regions.length ? `\n[${node.data.regions.join(", ")}]` : "";
    node.data.caption = node.data.label + regions;
  }
  let keep = elements;
  if (picked && state.mode === "filter") {
    keep = {
      nodes: elements.nodes.filter((n) => picked.nodes.has(n.data.id)),
      edges: elements.edges.filter((e) => picked.edges.has(e.data.id)),
    };
  }
  const positions = layeredPositions(keep);
  const big = keep.nodes.length > BIG_GRAPH;
  cy.batch(() => {
    cy.elements().remove();
    cy.add([...keep.nodes.map((n) => ({ ...n, position: positions[n.data.id] })), ...keep.edges]);
    if (picked) {
      const tagged = new Set(state.tag ? nodesWithTag(keep, state.tag) : []);
      cy.elements().forEach((item) => {
        const id = item.id();
        const inside = item.isNode() ? picked.nodes.has(id) : picked.edges.has(id);
        item.toggleClass("dim", !inside);
        item.toggleClass("path", inside);
        if (item.isNode()) item.toggleClass("tagged", inside && (tagged.has(id) || regionMatch(item)));
      });
    }
    if (state.focus) cy.getElementById(state.focus).addClass("focus");
  });
  cy.style().selector("edge").style("curve-style", big ? "haystack" : "bezier").update();
  cy.fit(undefined, 40);
  updateChoices();
}

function regionMatch(node) {
  return Boolean(state.region) && node.data("regions").includes(state.region);
}

function updateChoices() {
  for (const tag of allTags(elements)) seenTags.add(tag);
  $("tag-list").replaceChildren(...[...seenTags].sort().map((t) => el("option", { value: t })));
  const select = $("region");
  const regions = new Set([...allRegions(elements), ...(state.region ? [state.region] : [])]);
  select.replaceChildren(el("option", { value: "" }, "any"), ...[...regions].sort().map((r) => el("option", { value: r }, r)));
  select.value = state.region;
}

// -- the side panel ------------------------------------------------------------------------------------
async function select(id) {
  const panel = $("panel");
  const node = cy.getElementById(id);
  if (node.empty()) return;
  const data = node.data();
  const view = {
    tag: state.tag,
    asOf: asOfParam(state.asOfLocal),
    neighbourJobs: node
      .neighborhood('node[kind = "JOB"]')
      .map((j) => ({ namespace: j.data("namespace"), name: j.data("name") })),
    focus: (nodeId) => {
      state.focus = nodeId;
      refresh();
    },
    markImpact: (impact) => {
      cy.nodes().removeClass("impact");
      for (const dataset of impact.datasets) cy.getElementById(dataset).addClass("impact");
    },
  };
  panel.dataset.busy = "true";
  panel.dataset.node = id;
  try {
    await (data.kind === "DATASET" ? showDataset : showJob)(panel, { ...data }, view);
  } catch (error) {
    fill(panel, el("p", { className: "error" }, `Could not load ${data.name}: ${error.message}`));
  } finally {
    panel.dataset.busy = "false";
  }
}

cy.on("tap", "node", (event) => select(event.target.id()));
cy.on("dbltap", "node", (event) => {
  state.focus = event.target.id();
  $("panel").dataset.node = state.focus;
  refresh();
});

// -- search --------------------------------------------------------------------------------------------
let searchTimer = null;
let results = [];

function showResults(items) {
  results = items;
  const list = $("search-results");
  list.replaceChildren(
    ...items.map((item, i) =>
      el(
        "li",
        { role: "option", "data-node-id": item.nodeId, "aria-selected": i === 0 ? "true" : "false", onmousedown: () => choose(item) },
        el("span", { className: `kind ${item.type}` }, item.type),
        el("span", {}, item.name),
        el("span", { className: "ns" }, item.namespace),
      ),
    ),
  );
  list.hidden = items.length === 0;
}

function choose(item) {
  $("search-results").hidden = true;
  $("search-q").value = item.name;
  state.focus = item.nodeId;
  $("panel").dataset.node = item.nodeId;
  refresh();
}

$("search-q").addEventListener("input", () => {
  clearTimeout(searchTimer);
  const q = $("search-q").value.trim();
  if (!q) return showResults([]);
  searchTimer = setTimeout(async () => {
    try {
      const answer = await api.search(q, { limit: 20 });
      if ($("search-q").value.trim() === q) showResults(answer.results);
    } catch (error) {
      showStatus(error.message, true);
    }
  }, 150);
});
$("search-q").addEventListener("blur", () => setTimeout(() => ($("search-results").hidden = true), 100));
$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  if (results.length) choose(results[0]);
});

// -- controls ------------------------------------------------------------------------------------------
$("depth").addEventListener("input", () => ($("depth-value").value = $("depth").value));
$("depth").addEventListener("change", () => {
  state.depth = Number($("depth").value);
  refresh();
});
$("direction").addEventListener("change", () => {
  state.direction = $("direction").value;
  refresh();
});
$("tag").addEventListener("change", () => {
  state.tag = $("tag").value.trim();
  refresh();
});
$("region").addEventListener("change", () => {
  state.region = $("region").value;
  refresh();
});
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => {
    state.mode = radio.value;
    refresh();
  });
}
$("as-of").addEventListener("change", () => {
  state.asOfLocal = $("as-of").value;
  refresh();
});
$("as-of-now").addEventListener("click", () => {
  state.asOfLocal = "";
  $("as-of").value = "";
  refresh();
});
$("fit").addEventListener("click", () => cy.fit(undefined, 40));

readHash();
syncControls();
refresh();
