// The read API the page uses, one function per call; every namespace and name is URL-encoded.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error_code;
  }
}

async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  const response = await fetch(text ? `${path}?${text}` : path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

const enc = encodeURIComponent;

export function search(q, { limit = 20, tag, namespace } = {}) {
  return get("/api/v1/search", { q, limit, tag, namespace });
}

export function lineage({ nodeId, depth, tag, asOf, direction }) {
  return get("/api/v1/lineage", { nodeId, depth, tag, asOf, direction });
}

export function dataset(namespace, name, asOf) {
  return get(`/api/v1/namespaces/${enc(namespace)}/datasets/${enc(name)}`, { asOf });
}

export function job(namespace, name) {
  return get(`/api/v1/namespaces/${enc(namespace)}/jobs/${enc(name)}`);
}

export function runs(namespace, name, limit = 10) {
  return get(`/api/v1/namespaces/${enc(namespace)}/jobs/${enc(name)}/runs`, { limit });
}

export function columnLineage(nodeId, { depth = 20, asOf, withDownstream = true } = {}) {
  return get("/api/v1/column-lineage", { nodeId, depth, asOf, withDownstream });
}

export function fieldImpact(nodeId, asOf) {
  return get("/api/v1/column-lineage/impact", { nodeId, asOf });
}
