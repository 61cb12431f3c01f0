/**
 * The plugin graph: every feature plugin names what it needs (fastify-plugin `dependencies`), and
 * the app registers them in an order computed from those names. No module looks another up at
 * run time ("is audit there yet?"): a missing dependency is a start-up error, never a check that
 * silently switches itself off, and the order of a list in app.ts decides nothing.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

type AnyPlugin = FastifyPluginAsync | FastifyPluginCallback | ((app: FastifyInstance) => Promise<unknown>);

interface PluginMeta {
  name?: string;
  dependencies?: string[];
}

const META = Symbol.for('plugin-meta');

export function pluginMeta(plugin: AnyPlugin): { name: string; dependencies: string[] } {
  const meta = (plugin as unknown as Record<symbol, PluginMeta | undefined>)[META];
  if (!meta?.name) throw new Error('every feature plugin needs a name (fastify-plugin `name`)');
  return { name: meta.name, dependencies: meta.dependencies ?? [] };
}

/**
 * Wraps an encapsulated routes plugin (its hooks stay its own) in a named node of the graph.
 */
export function routesPlugin(name: string, dependencies: string[], routes: FastifyPluginAsync | AnyPlugin) {
  return fp(async (app: FastifyInstance) => app.register(routes as FastifyPluginAsync), { name, dependencies });
}

/**
 * A topological order of the plugins: each after everything it declares. Ties keep the order of
 * the input. Dependencies that are not in the list must be registered before (platform plugins
 * such as `deps`); an unknown name or a cycle is an error at start-up.
 */
export function orderByDependencies<T extends AnyPlugin>(plugins: readonly T[], registered: readonly string[]): T[] {
  const byName = new Map<string, T>();
  for (const plugin of plugins) {
    const { name } = pluginMeta(plugin);
    if (byName.has(name)) throw new Error(`plugin "${name}" is listed twice`);
    byName.set(name, plugin);
  }
  const done = new Set<string>(registered);
  const visiting = new Set<string>();
  const ordered: T[] = [];
  const visit = (plugin: T, path: string[]) => {
    const { name, dependencies } = pluginMeta(plugin);
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`plugin dependency cycle: ${[...path, name].join(' -> ')}`);
    visiting.add(name);
    for (const dependency of dependencies) {
      const next = byName.get(dependency);
      if (next) visit(next, [...path, name]);
      else if (!done.has(dependency))
        throw new Error(`plugin "${name}" needs "${dependency}", which is not registered`);
    }
    visiting.delete(name);
    done.add(name);
    ordered.push(plugin);
  };
  for (const plugin of plugins) visit(plugin, []);
  return ordered;
}

/** One line per plugin: `name -> dependencies`, in registration order (the closing note's graph). */
export function describeGraph(plugins: readonly AnyPlugin[]): string {
  return plugins
    .map((plugin) => {
      const { name, dependencies } = pluginMeta(plugin);
      return `${name} -> ${dependencies.length > 0 ? dependencies.join(', ') : '(none)'}`;
    })
    .join('\n');
}
