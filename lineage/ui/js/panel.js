// The side panel: a dataset's or job's facets, schema fields and their tags, column lineage, residency
// decisions and recent runs. Text from the API only ever reaches the page as text nodes.

import * as api from "./api.js";
import { GOVERNANCE_FACET, RESIDENCY_FACET, nameMatches, residencyDecisions, tagMatches } from "./elements.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replace a node's children, skipping absent ones and flattening lists (as el does).
export function fill(node, ...children) {
  node.replaceChildren(...el("div", {}, ...children).childNodes);
}

const MAX_JOBS = 8;

function chips(tags, wanted, className = "") {
  return tags.map((tag) =>
    el("span", { className: `chip ${className} ${wanted && tagMatches(tag, wanted) ? "match" : ""}` }, tag),
  );
}

function when(text) {
  return text ? text.replace("T", " ").replace(/\.\d+Z$/, "Z") : "—";
}

function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function facetsSection(facets) {
  const names = Object.keys(facets || {}).sort();
  if (!names.length) return [];
  return [
    el("h3", {}, "Facets"),
    ...names.map((name) =>
      el("details", { "data-facet": name }, el("summary", {}, name), el("pre", {}, JSON.stringify(facets[name], null, 2))),
    ),
  ];
}

function governanceSection(facets) {
  const facet = facets && facets[GOVERNANCE_FACET];
  if (!facet) return [];
  const rows = ["governed_topic", "subject", "version", "semver", "schema_type", "schema_id"]
    .filter((key) => facet[key] !== undefined && facet[key] !== null)
    .flatMap((key) => [el("dt", {}, key.replace("_", " ")), el("dd", {}, facet[key])]);
  return [el("h3", {}, "Governance"), el("dl", {}, rows)];
}

export function decisionCard(decision, jobName) {
  const redacted = decision.redacted_fields || [];
  return el(
    "div",
    { className: `decision ${decision.outcome}`, "data-decision": decision.decision_id },
    el("div", {}, el("span", { className: "outcome" }, decision.outcome.replaceAll("_", " ")), " · ", decision.dataset),
    el(
      "div",
      {},
      el("span", { className: "chip region" }, decision.source_region || "?"),
      "→ ",
      el("span", { className: "chip region" }, decision.destination_region || "?"),
      decision.sink ? ` to ${decision.sink}` : "",
    ),
    redacted.length
      ? el("div", {}, "redacted: ", redacted.map((r) => `${r.field} (${r.action})`).join(", "))
      : null,
    el(
      "div",
      { className: "namespace" },
      `policy ${decision.policy_version} · decision ${decision.decision_id}${jobName ? ` · run of ${jobName}` : ""}`,
    ),
  );
}

function runsTable(rows) {
  if (!rows.length) return el("p", { className: "hint" }, "No runs recorded.");
  return el(
    "table",
    { "data-runs": "" },
    el("thead", {}, el("tr", {}, el("th", {}, "job"), el("th", {}, "state"), el("th", {}, "started"), el("th", {}, "took"))),
    el(
      "tbody",
      {},
      rows.map(({ job, run }) =>
        el(
          "tr",
          { title: `run ${run.id}` },
          el("td", {}, job),
          el("td", {}, el("span", { className: `state ${run.state}` }, run.state)),
          el("td", {}, when(run.startedAt || run.createdAt)),
          el("td", {}, duration(run.durationMs)),
        ),
      ),
    ),
  );
}

function fieldsTable(fields, wanted, onField) {
  if (!fields.length) return el("p", { className: "hint" }, "No schema recorded.");
  return el(
    "table",
    { "data-fields": "" },
    el("thead", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "tags"))),
    el(
      "tbody",
      {},
      fields.map((field) =>
        el(
          "tr",
          { "data-field": field.name },
          el(
            "td",
            {},
            el("button", { className: "field-name", type: "button", title: "What is computed from this field", onclick: () => onField(field.name) }, field.name),
          ),
          el("td", { className: "type" }, field.type || ""),
          el("td", {}, chips(field.tags || [], wanted)),
        ),
      ),
    ),
  );
}

function columnSection(answer, namespace, name) {
  const nodes = (answer && answer.graph) || [];
  const own = nodes.filter((n) => n.data.namespace === namespace && n.data.dataset === name);
  const from = own.filter((n) => n.data.inputFields.length);
  const feeds = nodes.filter((n) =>
    n.data.inputFields.some((i) => i.namespace === namespace && i.dataset === name),
  );
  if (!from.length && !feeds.length) return [el("h3", {}, "Column lineage"), el("p", { className: "hint" }, "None recorded.")];
  const source = (i) => `${i.dataset}.${i.field}`;
  return [
    el("h3", {}, "Column lineage"),
    el(
      "ul",
      { className: "plain", "data-column-lineage": "" },
      from.map((n) =>
        el(
          "li",
          {},
          el("code", {}, n.data.field),
          " ← ",
          n.data.inputFields.map(source).join(", "),
          n.data.transformationType ? ` (${n.data.transformationType})` : "",
        ),
      ),
      feeds.map((n) =>
        el(
          "li",
          {},
          n.data.inputFields.filter((i) => i.dataset === name).map((i) => i.field).join(", "),
          " → ",
          el("code", {}, `${n.data.dataset}.${n.data.field}`),
        ),
      ),
    ),
  ];
}

async function recentRuns(jobs) {
  const answers = await Promise.all(
    jobs.slice(0, MAX_JOBS).map((j) =>
      api.runs(j.namespace, j.name, 5).then(
        (a) => a.runs.map((run) => ({ job: j.name, run })),
        () => [],
      ),
    ),
  );
  return answers.flat().sort((a, b) => (b.run.createdAt || "").localeCompare(a.run.createdAt || ""));
}

// `view` gives the panel what it needs from the page: the current tag, the as-of time, the regions and
// neighbouring jobs the graph shows for a node, and callbacks to refocus and to mark field impact.
export async function showDataset(panel, node, view) {
  const [data, columns, runs] = await Promise.all([
    api.dataset(node.namespace, node.name, view.asOf),
    api.columnLineage(node.id, { asOf: view.asOf }).catch(() => null),
    recentRuns(view.neighbourJobs),
  ]);
  const decisions = runs.flatMap(({ job, run }) =>
    residencyDecisions(run.facets)
      .filter((d) => nameMatches(data, d.dataset) || nameMatches(data, d.sink))
      .map((d) => decisionCard(d, job)),
  );
  const onField = async (field) => {
    const impact = await api.fieldImpact(`datasetField:${node.namespace}:${node.name}:${field}`, view.asOf);
    view.markImpact(impact);
    const list = panel.querySelector("[data-impact]");
    fill(list,
      el("h3", {}, `Computed from ${field}`),
      impact.impacted.length
        ? el("ul", { className: "plain" }, impact.impacted.map((i) => el("li", {}, `${i.dataset}.${i.field} (${i.depth} hop${i.depth > 1 ? "s" : ""})`)))
        : el("p", { className: "hint" }, "Nothing recorded downstream."),
    );
  };
  fill(panel,
    el("span", { className: "kind DATASET" }, "DATASET"),
    el("h2", {}, data.name),
    el("p", { className: "namespace" }, data.namespace),
    data.description ? el("p", {}, data.description) : null,
    el("div", {}, chips(node.regions, null, "region"), chips(data.tags, view.tag)),
    el("div", { className: "actions" }, el("button", { type: "button", onclick: () => view.focus(node.id) }, "Centre graph here")),
    governanceSection(data.facets),
    el("h3", {}, "Schema fields"),
    fieldsTable(data.fields, view.tag, onField),
    el("div", { "data-impact": "" }),
    columnSection(columns, data.namespace, data.name),
    el("h3", {}, "Residency decisions"),
    decisions.length ? el("div", { "data-decisions": "" }, decisions) : el("p", { className: "hint" }, "No residency decision names this dataset."),
    el("h3", {}, "Recent runs of its jobs"),
    runsTable(runs.slice(0, 10)),
    facetsSection(data.facets),
  );
}

export async function showJob(panel, node, view) {
  const [data, answer] = await Promise.all([api.job(node.namespace, node.name), api.runs(node.namespace, node.name, 10)]);
  const decisions = answer.runs.flatMap((run) => residencyDecisions(run.facets).map((d) => decisionCard(d, null)));
  const io = (items) => el("ul", { className: "plain" }, items.map((d) => el("li", {}, d.name)));
  const runFacets = data.latestRun ? { ...data.latestRun.facets } : {};
  delete runFacets[RESIDENCY_FACET];
  fill(panel,
    el("span", { className: "kind JOB" }, "JOB"),
    el("h2", {}, data.name),
    el("p", { className: "namespace" }, data.namespace),
    data.description ? el("p", {}, data.description) : null,
    el("div", {}, chips(node.regions, null, "region")),
    el("div", { className: "actions" }, el("button", { type: "button", onclick: () => view.focus(node.id) }, "Centre graph here")),
    el("h3", {}, "Reads"),
    data.inputs.length ? io(data.inputs) : el("p", { className: "hint" }, "Nothing."),
    el("h3", {}, "Writes"),
    data.outputs.length ? io(data.outputs) : el("p", { className: "hint" }, "Nothing."),
    el("h3", {}, "Residency decisions"),
    decisions.length ? el("div", { "data-decisions": "" }, decisions) : el("p", { className: "hint" }, "None recorded for its runs."),
    el("h3", {}, "Recent runs"),
    runsTable(answer.runs.map((run) => ({ job: data.name, run }))),
    facetsSection({ ...data.facets, ...Object.fromEntries(Object.entries(runFacets).map(([k, v]) => [`run: ${k}`, v])) }),
  );
}
