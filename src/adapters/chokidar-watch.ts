import { watch } from 'chokidar';

/**
 * Watch a local desired-state directory; `onChange` fires once per burst of
 * changes (an editor save or a `git pull` touches many files at once).
 */
export function watchRepo(dir: string, onChange: () => void, debounceMs = 500): () => Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  const watcher = watch(dir, {
    ignoreInitial: true,
    ignored: (path: string) => /(^|[/\\])(\.git|node_modules)([/\\]|$)/.test(path),
    awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 50 },
  });
  watcher.on('all', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  });
  return async () => {
    if (timer) clearTimeout(timer);
    await watcher.close();
  };
}
