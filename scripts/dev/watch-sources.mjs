// Watches the source folders for hot-restart.mjs: one non-recursive watch per folder, or polling.
//
// Why not fs.watch(folder, { recursive: true }): on Linux Node (20, 22) emulates it by watching every file
// on its own, by inode, the moment the file appears. A save that renames a temporary file over the
// original (as many editors save) replaces that inode, so the first such save was seen and every later
// save of the file was not; and a temporary file the runner may not read (`sed -i`'s is mode 600, and
// the dev compose runs the runner as the checkout's owner while root edits) made that watch fail with
// EACCES, an 'error' event that killed the runner and the API with it. A folder's own watch reports
// each change of an entry by name, whatever replaced it, and needs no access to the files themselves.
// A folder that cannot be watched (unreadable, gone meanwhile) is skipped and logged, never fatal: its
// parent's watch sees it come back or become readable, and it is watched then. (Node's FSWatcher reports
// no errors once a watch has begun on Linux and macOS: libuv never passes one to it there.)
import { lstatSync, readdirSync, statSync, watch } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';

const exists = (path) => {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
};
const isFolder = (path) => exists(path)?.isDirectory() ?? false;

/** The entries of `folder`; none when it cannot be read or went meanwhile (`unreadable` is told which). */
function entriesOf(folder, unreadable) {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    if (error.code !== 'ENOENT') unreadable?.(folder, error);
    return [];
  }
}

/**
 * Calls `onChange(path)` when a file `isSource` accepts is written, replaced, created or deleted under
 * `folders`, when a folder with such files appears, and when a watched folder goes away. With `polling`,
 * compares the files every `interval` ms instead (where file events do not arrive).
 */
export function watchSources(folders, { isSource, onChange, log, root, polling, interval }) {
  log(
    `watching ${folders.map((folder) => relative(root, folder)).join(', ')} (${polling ? `polling every ${interval} ms` : 'file events'})`,
  );
  const unwatchable = (folder, error) =>
    log(`cannot watch ${relative(root, folder)} (${error.code ?? error.message}); its edits go unseen until it can be read`);
  if (polling) poll(folders, { isSource, onChange, interval });
  else for (const folder of folders) watchTree(folder, { isSource, onChange, unwatchable });
}

function watchTree(top, { isSource, onChange, unwatchable }) {
  const watchers = new Map(); // folder → its watch
  let topLost = false;

  /** Stops watching `folder` and everything under it. */
  const forget = (folder) => {
    for (const [path, watcher] of watchers) {
      if (path === folder || path.startsWith(folder + sep)) {
        watcher.close();
        watchers.delete(path);
      }
    }
  };

  /** Watches `folder` and the folders under it; reports the sources in them when they are new. */
  const add = (folder, isNew) => {
    if (watchers.has(folder)) return;
    try {
      watchers.set(
        folder,
        watch(folder, (_event, name) => changed(folder, String(name))),
      );
    } catch (error) {
      if (error.code !== 'ENOENT') unwatchable(folder, error);
      return;
    }
    // Read after the watch began, so nothing written meanwhile is missed. Files written into a new folder
    // before that (mkdir -p, a folder moved in) count as changes.
    for (const entry of entriesOf(folder, unwatchable)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) add(path, isNew);
      else if (isNew && entry.isFile() && isSource(entry.name)) onChange(path);
    }
  };

  /**
   * The watched folder itself was deleted or moved (Linux names it in the event): its watch is over, even
   * when a folder of the same name, maybe with the same inode number, is already there again.
   */
  const lost = (folder) => {
    forget(folder);
    if (isFolder(folder)) return add(folder, true);
    onChange(folder);
    if (folder === top) topLost = true;
  };

  const changed = (folder, name) => {
    const path = join(folder, name);
    if (name === basename(folder) && !exists(path)) return lost(folder);
    if (isFolder(path)) {
      // New, moved in, or readable after a chmod: watched from now on.
      add(path, true);
    } else if (watchers.has(path)) {
      // Deleted or moved away, with whatever sources it held.
      forget(path);
      onChange(path);
    }
    if (isSource(name)) onChange(path);
  };

  add(top, false);
  // No watch here sees the top folder made again after it went (a branch switch): look for it.
  setInterval(() => {
    if (!topLost || !isFolder(top)) return;
    topLost = false;
    add(top, true);
  }, 1_000).unref();
}

/** For bind mounts without file events: compares every source file's stamp each `interval` ms. */
function poll(folders, { isSource, onChange, interval }) {
  const stamp = (file) => {
    try {
      const stat = statSync(file);
      return `${stat.mtimeMs}:${stat.size}`;
    } catch {
      return 'gone';
    }
  };
  const snapshot = () => {
    const stamps = new Map();
    const walk = (folder) => {
      for (const entry of entriesOf(folder)) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile() && isSource(entry.name)) stamps.set(path, stamp(path));
      }
    };
    folders.forEach(walk);
    return stamps;
  };
  let seen = snapshot();
  setInterval(() => {
    const now = snapshot();
    const changed = [...now].find(([file, value]) => seen.get(file) !== value) ?? [...seen].find(([file]) => !now.has(file));
    seen = now;
    if (changed) onChange(changed[0]);
  }, interval).unref();
}
