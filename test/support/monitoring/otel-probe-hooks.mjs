// Module resolve hook of otel-probe.ts (runs on Node's loader thread): reports every module it
// resolves whose specifier or URL names an @opentelemetry package, then a marker on request.
let port;

export function initialize(data) {
  port = data.port;
}

export async function resolve(specifier, context, next) {
  if (specifier === 'otel-probe:flush') {
    port.postMessage({ flush: true });
    return { url: 'data:text/javascript,export%20default%201', shortCircuit: true };
  }
  const resolved = await next(specifier, context);
  if (specifier.includes('@opentelemetry/') || resolved.url.includes('/@opentelemetry/')) {
    port.postMessage({ url: resolved.url });
  }
  return resolved;
}
